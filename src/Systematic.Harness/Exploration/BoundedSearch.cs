namespace Systematic.Harness.Exploration;

/// <summary>
/// Enumerates every schedule with at most <see cref="Bound"/> preemptions, fewest preemptions first (CHESS's iterative
/// context bounding, done as one best-first search): each iteration follows a prefix of choices and then goes on without
/// preempting (the running flow keeps running while it can; when it cannot, the enabled operation with the lowest id
/// runs); every other choice at a step past the prefix becomes a branch, costed by the preemptions it adds.
/// </summary>
/// <remarks>
/// A flow is Coyote's operation group: a Task.Run body with the continuations its awaits post. A preemption is a switch
/// away from a flow that could have gone on: one of its operations enabled, and not spin-yielding (a
/// <c>SpinWait</c>, <c>Thread.Yield</c> or Coyote's <c>SchedulingPoint.Yield</c> gives way to the other flows at no
/// cost, as a fair scheduler makes it). Every scheduling point is a choice point, so races between unsynchronized
/// accesses are explored too. Nondeterministic values are choices at no cost. Stateless: nothing but the choices is
/// kept, and each schedule is run once.
/// </remarks>
internal sealed class BoundedSearch(int bound) : IScheduleChooser
{
    /// <summary>Branches by cost, LIFO within a cost (depth first inside a level).</summary>
    private readonly List<Stack<Branch>> frontier = [];

    private readonly List<Choice> steps = [];
    private readonly List<Step> taken = [];
    private readonly List<(int Task, int Events)> marks = [];
    private Choice[] prefix = [];
    private int preemptions;
    private bool running;
    private bool diverged;
    private int level;

    /// <summary>Gets the preemption bound.</summary>
    public int Bound { get; } = bound;

    /// <summary>Gets the schedules started so far.</summary>
    public long Schedules { get; private set; }

    /// <summary>Gets the schedules run so far, by their preemptions (index 0 to <see cref="Bound"/>).</summary>
    public long[] SchedulesByPreemptions { get; } = new long[bound + 1];

    /// <summary>Gets the schedules whose prefix could not be followed (the program chose differently on the same choices: something ran uncontrolled).</summary>
    public long Diverged { get; private set; }

    /// <summary>Gets the preemptions of the schedule last run.</summary>
    public int Preemptions { get; private set; }

    /// <summary>Gets, for each preemption of the schedule last run, where the recording stood when it was preempted (the task and the events recorded before).</summary>
    public IReadOnlyList<(int Task, int Events)> Marks { get; private set; } = [];

    /// <summary>Gets what marks a preemption: where the recording stands, read on the preempted flow's own thread.</summary>
    public Func<(int Task, int Events)>? Mark { get; init; }

    /// <summary>Gets the bound below which every schedule has been run (all schedules with fewer preemptions than this): the level the search is on, or <see cref="Bound"/> + 1 when exhausted.</summary>
    public int CompleteBelow => this.Exhausted ? this.Bound + 1 : this.level;

    /// <summary>Gets whether every schedule within the bound has been run.</summary>
    public bool Exhausted { get; private set; }

    /// <summary>Gets or sets the most schedules to run; the search stops there.</summary>
    public long Budget { get; init; } = long.MaxValue;

    /// <summary>Gets whether the search stopped at its budget with schedules left.</summary>
    public bool BudgetReached => !this.Exhausted && this.Schedules >= this.Budget;

    /// <inheritdoc/>
    public bool StartIteration(uint iteration)
    {
        this.Finish();
        if (this.Schedules >= this.Budget)
        {
            return false;
        }

        if (this.Schedules > 0)
        {
            var next = this.Pop();
            if (next is null)
            {
                this.Exhausted = true;
                return false;
            }

            this.prefix = next.Choices();
        }

        this.Schedules++;
        this.running = true;
        return true;
    }

    /// <inheritdoc/>
    public OperationView? ChooseOperation(IReadOnlyList<OperationView> enabled, OperationView current, bool yielding)
    {
        // The flow of control that reached this point can go on when one of its operations is enabled (the operation
        // itself, or the continuation it posted) and it does not spin-yield.
        var others = enabled.Where(o => !ReferenceEquals(o.Group, current.Group)).ToList();
        var own = yielding ? null : enabled.Where(o => ReferenceEquals(o.Group, current.Group)).OrderBy(o => o.Id == current.Id ? 0 : 1).FirstOrDefault();
        OperationView? chosen = null;
        if (this.steps.Count < this.prefix.Length)
        {
            var want = this.prefix[this.steps.Count];
            chosen = want.IsValue ? null : enabled.FirstOrDefault(o => o.Id == want.Value);
            this.diverged |= chosen is null;
        }

        // A flow that spin-yields gives way to the others (at no cost), as a fair scheduler makes it: staying would only
        // spin again, and choosing to would make every spin length a schedule of its own.
        var free = yielding && others.Count > 0 ? others : enabled;
        chosen ??= own ?? free[0];

        // Where the flow cannot go on, every enabled operation is a free choice; where it can, switching away is a preemption.
        this.taken.Add(new Step([.. (own is null ? free : others).Select(o => o.Id)], 0, own is not null, this.preemptions));

        if (own is not null && !ReferenceEquals(chosen.Group, current.Group))
        {
            this.preemptions++;
            this.marks.Add(this.Mark?.Invoke() ?? default);
        }

        this.steps.Add(new Choice(false, chosen.Id));
        return chosen;
    }

    /// <inheritdoc/>
    public int ChooseValue(int count)
    {
        var value = 0;
        if (this.steps.Count < this.prefix.Length)
        {
            var want = this.prefix[this.steps.Count];
            this.diverged |= !want.IsValue || (int)want.Value >= count;
            value = want.IsValue && (int)want.Value < count ? (int)want.Value : 0;
        }

        this.taken.Add(new Step([], count, false, this.preemptions));
        this.steps.Add(new Choice(true, (ulong)value));
        return value;
    }

    /// <summary>Ends the last schedule run (its engine stopped): counts it and keeps its branches, so a new engine can go on.</summary>
    public void Close() => this.Finish();

    /// <summary>Ends the schedule that ran: counts it and turns every other choice past its prefix into a branch within the bound.</summary>
    private void Finish()
    {
        if (!this.running)
        {
            return;
        }

        this.running = false;
        this.SchedulesByPreemptions[Math.Min(this.preemptions, this.Bound)]++;
        this.Preemptions = this.preemptions;
        this.Marks = [.. this.marks];
        this.Diverged += this.diverged ? 1 : 0;
        var choices = this.steps.ToArray();
        for (var index = this.prefix.Length; index < this.taken.Count; index++)
        {
            // Steps within the prefix were branched from by the schedules the prefix came from.
            var step = this.taken[index];
            var chosen = choices[index];
            if (step.Values > 0)
            {
                for (var v = 1; v < step.Values; v++)
                {
                    this.Push(new Branch(choices, index, new Choice(true, (ulong)v), step.Before));
                }

                continue;
            }

            foreach (var id in step.Enabled)
            {
                if (id == chosen.Value)
                {
                    continue;
                }

                var cost = step.Before + (step.Preempts ? 1 : 0);
                if (cost <= this.Bound)
                {
                    this.Push(new Branch(choices, index, new Choice(false, id), cost));
                }
            }
        }

        this.steps.Clear();
        this.taken.Clear();
        this.preemptions = 0;
        this.marks.Clear();
        this.diverged = false;
    }

    private void Push(Branch branch)
    {
        while (this.frontier.Count <= branch.Cost)
        {
            this.frontier.Add(new Stack<Branch>());
        }

        this.frontier[branch.Cost].Push(branch);
    }

    private Branch? Pop()
    {
        while (this.level < this.frontier.Count && this.frontier[this.level].Count == 0)
        {
            this.level++;
        }

        return this.level < this.frontier.Count ? this.frontier[this.level].Pop() : null;
    }

    /// <summary>A choice: an operation id, or a nondeterministic value.</summary>
    private readonly record struct Choice(bool IsValue, ulong Value);

    /// <summary>A choice point: the other operations it could run (or the count of values), whether running one of them is a preemption, and the preemptions before it.</summary>
    private sealed record Step(ulong[] Enabled, int Values, bool Preempts, int Before);

    /// <summary>A schedule to run: the first <see cref="Length"/> choices of <see cref="Basis"/>, then <see cref="Alternative"/>.</summary>
    private sealed record Branch(Choice[] Basis, int Length, Choice Alternative, int Cost)
    {
        public Choice[] Choices() => [.. this.Basis.AsSpan(0, this.Length), this.Alternative];
    }
}
