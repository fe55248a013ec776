using System.Runtime.CompilerServices;
using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Systematic.Recording;

/// <summary>
/// The live recorder: one session per test iteration, started by the instrumented test method itself, so the same
/// recording happens under Systematic, under stock <c>coyote test</c> and under <c>coyote replay</c>.
/// </summary>
public static class Recorder
{
    /// <summary>The prefix of every failure message Systematic's own checks raise.</summary>
    public const string FailurePrefix = "[systematic] ";

    /// <summary>Events kept per iteration; later events are counted as dropped.</summary>
    public const int MaxEvents = 200_000;

    /// <summary>No site, for the overloads that take either an emitted or a resolved one.</summary>
    internal static SourceSite? NoSite => null;

    private static readonly AsyncLocal<FlowMark> Flow = new();
    private static Session? current;
    private static int sessions;

    private static readonly Lazy<DirectedPlan?> PlanFromEnvironment = new(() =>
        Environment.GetEnvironmentVariable(DirectedPlan.Variable) is { Length: > 0 } path ? DirectedPlan.Read(path) : null);

    private static RecorderSettings settings = RecorderSettings.None;

    /// <summary>Gets the settings of the run attached now (<see cref="Attach"/>), or <see cref="RecorderSettings.None"/>.</summary>
    public static RecorderSettings Settings => settings;

    /// <summary>Gets a value indicating whether a failure stops in an attached debugger, on the failing task's stack.</summary>
    public static bool BreakOnFailure => settings.BreakOnFailure;

    /// <summary>Gets the steps (event sequence numbers) at which <see cref="AtBreakStep"/> runs, or null for none.</summary>
    public static IReadOnlySet<int>? BreakSteps => settings.BreakSteps;

    /// <summary>
    /// Gets the schedule to build, when confirming a predicted lock-order cycle (or replaying one it confirmed); null for
    /// none. A stock <c>coyote replay</c> gets it from the file <see cref="DirectedPlan.Variable"/> names.
    /// </summary>
    public static DirectedPlan? Directed => settings.Directed ?? PlanFromEnvironment.Value;

    /// <summary>Gets what runs at each of <see cref="BreakSteps"/> (a debugger break, when replaying with --break).</summary>
    public static Action<RecordedEvent>? AtBreakStep => settings.AtBreakStep;

    /// <summary>
    /// Applies <paramref name="run"/> to the recorder until the returned scope is disposed, which restores what was
    /// there before: <c>using var scope = Recorder.Attach(new RecorderSettings { Directed = plan });</c>.
    /// </summary>
    public static IDisposable Attach(RecorderSettings run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var previous = settings;
        settings = run;
        return new Scope(previous);
    }

    private sealed class Scope(RecorderSettings previous) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (!this.disposed)
            {
                this.disposed = true;
                settings = previous;
            }
        }
    }

    /// <summary>Gets the log of the most recent iteration, or null when no instrumented test ran.</summary>
    public static IterationLog? Last => current?.Log;

    /// <summary>Gets the session being recorded, or null when none is, or when the calling flow does not belong to it (an earlier iteration's stray continuation, or code another test runs meanwhile).</summary>
    internal static Session? Live
    {
        get
        {
            if (current is not { Log.Frozen: false } session)
            {
                return null;
            }

            // Only flows that descend from the iteration's start record into it: another test running the same
            // instrumented code at the same time (a test runner runs tests in parallel) is not part of this iteration.
            return Flow.Value.Session == session.Id ? session : null;
        }
    }

    /// <summary>Gets where the recording stands on this flow of control: the task running here and the number of events recorded so far in the iteration (for a scheduler that marks its decisions).</summary>
    public static (int Task, int Events) Position => (CurrentTask, current?.Log.Events.Count ?? 0);

    internal static int CurrentTask
    {
        get
        {
            var mark = Flow.Value;
            return current is { } s && mark.Session == s.Id ? mark.Task : 0;
        }
    }

    /// <summary>Starts recording a new iteration of <paramref name="test"/>.</summary>
    public static void Begin(string test)
    {
        var session = new Session(++sessions, new IterationLog(test));
        current = session;
        Directed?.Reset();
        var root = session.Log.AddTask(test, null, 0, false);
        session.Emit(EventKind.TaskStart, root.Id, 0, NoSite);
        SetCurrentTask(root.Id);
        try
        {
            RuntimeProvider.Current.RegisterLog(new FailureLog(session));
            session.Choices = Generator.Create();
        }
        catch (InvalidOperationException)
        {
            // Not under a Coyote runtime: record without scheduling choices.
        }
    }

    /// <summary>Stops recording: tasks seen finished get their end events, and resources their final names.</summary>
    public static void Freeze(string? failure = null)
    {
        if (current is not { Log.Frozen: false } session)
        {
            return;
        }

        session.ObserveCompletions();
        session.ApplyGivenNames();
        session.Log.Failure = failure;
        session.Log.Frozen = true;
    }

    /// <summary>Checks the end-of-test invariants: every permit is back and no task is left holding a lock.</summary>
    public static void CheckEndOfTest()
    {
        // Only the flow of the test that started this recording checks it (never a stray continuation of an older one).
        if (Live is not { } session || Flow.Value.Session != session.Id)
        {
            return;
        }

        session.ObserveCompletions();
        if (session.FindLeaks() is not { } leaks)
        {
            Freeze();
            return;
        }

        Fail(new DetectedFailure(FailureKind.Leak, leaks.Resources, leaks.Tasks, null), leaks.Text);
    }

    /// <summary>
    /// Ends the iteration with a failure Systematic detected: the log is frozen with it, then Coyote reports it with the
    /// message <see cref="FailurePrefix"/> + kind + <paramref name="what"/> (what stock <c>coyote</c> shows).
    /// </summary>
    internal static void Fail(DetectedFailure failure, string what)
    {
        var message = $"{FailurePrefix}{failure.Kind}: {what}";
        if (current is { Log.Frozen: false } session)
        {
            session.Log.Detected = failure;
        }

        Freeze(message);
        try
        {
            Specification.Assert(false, message);
        }
        catch (ThreadInterruptedException) when (RunsInsideForeignCallback())
        {
            // Coyote has recorded the failure and stops the iteration. Its interrupt unwinds a controlled operation,
            // but here this code runs inside a callback Coyote did not start (a continuation run inline by an
            // uncontrolled task completion, a timer, the thread pool), which would turn it into a process crash.
        }
    }

    /// <summary>Whether the current code runs inside a callback of the runtime's (a continuation run inline, a thread-pool item, a timer), not directly in an operation of Coyote's. Only on the failure path: it walks the stack.</summary>
    private static bool RunsInsideForeignCallback()
    {
        if (Thread.CurrentThread.IsThreadPoolThread)
        {
            return true;
        }

        foreach (var frame in new System.Diagnostics.StackTrace(false).GetFrames())
        {
            if (frame.GetMethod()?.DeclaringType?.FullName is "System.Threading.Tasks.AwaitTaskContinuation" or "System.Threading.ThreadPoolWorkQueue" or "System.Threading.TimerQueueTimer")
            {
                return true;
            }
        }

        return false;
    }

    internal static FlowMark SetCurrentTask(int task)
    {
        var previous = Flow.Value;
        Flow.Value = new FlowMark(current?.Id ?? 0, task);
        return previous;
    }

    internal static void RestoreFlow(FlowMark mark) => Flow.Value = mark;

    internal readonly record struct FlowMark(int Session, int Task);

    private sealed class FailureLog(Session session) : IRuntimeLog
    {
        public void OnAssertionFailure(string error)
        {
            if (BreakOnFailure && System.Diagnostics.Debugger.IsAttached)
            {
                // Stopped at the failure: the failing task's frames are on this thread's stack.
                System.Diagnostics.Debugger.Break();
            }

            if (ReferenceEquals(current, session))
            {
                Freeze(error.StartsWith("[coyote::error] ", StringComparison.Ordinal) ? error["[coyote::error] ".Length..] : error);
            }
        }

        public void OnCreateMonitor(string monitorType)
        {
        }

        public void OnMonitorExecuteAction(string monitorType, string stateName, string actionName)
        {
        }

        public void OnMonitorProcessEvent(string monitorType, string stateName, string senderName, string senderType, string senderStateName, Microsoft.Coyote.Specifications.Monitor.Event e)
        {
        }

        public void OnMonitorRaiseEvent(string monitorType, string stateName, Microsoft.Coyote.Specifications.Monitor.Event e)
        {
        }

        public void OnMonitorStateTransition(string monitorType, string stateName, bool isEntry, bool? isInHotState)
        {
        }

        public void OnMonitorError(string monitorType, string stateName, bool? isInHotState)
        {
        }

        public void OnRandom(bool result, string callerName, string callerType)
        {
        }

        public void OnRandom(int result, string callerName, string callerType)
        {
        }

        public void OnCompleted()
        {
        }
    }
}

/// <summary>The recording of one iteration while it runs.</summary>
internal sealed class Session(int id, IterationLog log)
{
    // Where each resource seen so far was made and what it was stored into, across iterations and tests: an object made
    // before this iteration (a static semaphore) is still known by its name.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, Tuple<SourceSite?, string?>> KnownNames = [];

    private readonly Dictionary<object, ResourceInfo> resources = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, object> targets = [];
    private readonly Dictionary<int, string?> hints = [];
    private readonly Dictionary<int, int> ordinals = [];
    private readonly Dictionary<object, (SourceSite? Site, string? Hint, int Ordinal)> creations = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<SourceSite, int> creationsPerSite = [];
    private readonly Dictionary<Task, int> taskIds = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, Task> tasksById = [];
    private readonly HashSet<int> livesOn = [];
    private readonly HashSet<Task> inlineTasks = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<int> directedPauses = [];
    private readonly HashSet<object> disposed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, (SourceSite? Site, string? Hint)> completionSources = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Task, object> completionTasks = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Task, int[]> joins = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, int> inlineDepth = [];
    private readonly Dictionary<int, (int Resource, SourceSite? Site, Task? Awaited)> pendingAsyncWaits = [];

    public int Id { get; } = id;

    public IterationLog Log { get; } = log;

    public WaitForState State { get; } = new();

    public Generator? Choices { get; set; }

    /// <summary>Records a step at a probe's emitted site (or the hidden wrapper's caller's, <see cref="AsyncProbes.EnterCallerSite"/>).</summary>
    public void Emit(EventKind kind, int task, int resource, string? site, int count = -1, int amount = 1, IReadOnlyList<int>? awaited = null) =>
        this.Emit(kind, task, resource, AsyncProbes.Site(site), count, amount, awaited);

    /// <summary>Records a step at a site already resolved.</summary>
    public void Emit(EventKind kind, int task, int resource, SourceSite? site, int count = -1, int amount = 1, IReadOnlyList<int>? awaited = null)
    {
        if (this.Log.Events.Count >= Recorder.MaxEvents)
        {
            this.Log.Dropped++;
            return;
        }

        if (task > 0 && this.pendingAsyncWaits.Count > 0 && this.pendingAsyncWaits.Remove(task, out var pending) &&
            !(kind is EventKind.Acquire or EventKind.Cancelled or EventKind.TimedOut && resource == pending.Resource))
        {
            // A task that awaited a permit and runs again got it (Coyote handed it over at a release), unless its wait
            // was cancelled or refused.
            var refused = pending.Awaited is { IsCompleted: true } done && (!done.IsCompletedSuccessfully || done is Task<bool> { Result: false });
            var free = this.targets.TryGetValue(pending.Resource, out var target) && target is SemaphoreSlim semaphore
                ? SemaphoreSlimProbes.Count(semaphore)
                : this.State.Resources.TryGetValue(pending.Resource, out var state) ? Math.Max(0, state.Count - (refused ? 0 : 1)) : -1;
            var outcome = !refused ? EventKind.Acquire : pending.Awaited!.IsCanceled ? EventKind.Cancelled : EventKind.TimedOut;
            this.Append(outcome, task, pending.Resource, pending.Site, free, 1, null);
        }

        this.Append(kind, task, resource, site, count, amount, awaited);
    }

    /// <summary>Remembers a task's asynchronous wait that did not complete at once; its acquire is recorded when the task runs again.</summary>
    /// <param name="task">The waiting task.</param>
    /// <param name="resource">The resource it waits for.</param>
    /// <param name="site">Where it waits.</param>
    /// <param name="awaited">The task its wait returned, whose outcome tells a permit taken from a wait cancelled or refused; null when unknown.</param>
    public void PendingAsyncWait(int task, int resource, SourceSite? site, Task? awaited = null) => this.pendingAsyncWaits[task] = (resource, site, awaited);

    private void Append(EventKind kind, int task, int resource, SourceSite? site, int count, int amount, IReadOnlyList<int>? awaited)
    {
        if (kind is EventKind.Wait or EventKind.Acquire or EventKind.Release && !this.IsDeclared(resource) &&
            this.targets.TryGetValue(resource, out var target) && Systematic.Signaling.IsDeclared(target))
        {
            // Declared (possibly after it was created): analyses learn it from the log, before its first use counts.
            this.Append(EventKind.Signaling, task, resource, site, -1, 0, null);
        }

        var e = new RecordedEvent(this.Log.NextSeq, kind, task, resource, site, count, amount, awaited);
        if (Recorder.BreakSteps is { } breaks && breaks.Contains(e.Seq) && !this.Log.Frozen)
        {
            Recorder.AtBreakStep?.Invoke(e);
        }

        if (kind == EventKind.Acquire && LockOrder.IsLock(this.Log.Resource(resource)) && !this.IsDeclared(resource))
        {
            this.RecordLockOrders(e);
        }

        if (this.Log.Add(e))
        {
            this.State.Apply(e, this.Log);
            if (kind == EventKind.Acquire && Recorder.Directed is { } plan && plan.IsFirst(this.Log.Resource(resource), e.Site) && this.directedPauses.Add(this.Log.Logical(task)))
            {
                // The cycle's schedule: hold the first lock until every task of the cycle holds its own.
                plan.Arrive();
                Microsoft.Coyote.Runtime.Operation.PauseUntil(() => plan.AllArrived || this.Log.Frozen);
            }
        }
    }

    private bool IsDeclared(int resource) => this.State.Resources.TryGetValue(resource, out var state) && state.Declared;

    private void RecordLockOrders(RecordedEvent e)
    {
        var owner = this.Log.Logical(e.Task);
        List<ResourceState>? held = null;
        foreach (var state in this.State.Resources.Values)
        {
            if (state.Info.Id != e.Resource && LockOrder.IsLock(state.Info) && !state.IsSignaling && state.Holders.GetValueOrDefault(owner) > 0)
            {
                (held ??= []).Add(state);
            }
        }

        foreach (var from in held ?? [])
        {
            var others = held!.Where(h => h != from).Select(h => h.Info.Id).ToArray();
            this.Log.AddLockOrder(new LockOrder(from.Info.Id, e.Resource, from.AcquireSites.GetValueOrDefault(owner), e.Site, owner, others));
        }
    }

    /// <summary>Remembers where an object that may become a lock was created (a <c>new object()</c>, a <c>new Lock()</c>) and its creation order there.</summary>
    public void NoteCreation(object target, string site, string? hint)
    {
        var where = AsyncProbes.Site(site);
        var ordinal = this.NextOrdinal(where);
        this.creations[target] = (where, hint, ordinal);
    }

    public ResourceInfo Resource(object target, ResourceKind kind, string? site, string? hint, int initial, int max)
    {
        if (!this.resources.TryGetValue(target, out var info))
        {
            var where = AsyncProbes.Site(site);
            if (this.creations.Remove(target, out var created))
            {
                // A lock object seen created: known by where it was made and what it was stored into, not by the name of
                // whatever local first locked it (which differs from one use to the next); made where nothing names it
                // (an argument, a tuple), it is known by the expression it is locked through (`lock (box)`).
                where = AsyncProbes.AtCaller(created.Site);
                hint = created.Hint ?? hint;
            }
            else if (site is null && hint is null && KnownNames.TryGetValue(target, out var known))
            {
                // Made before this iteration began.
                (where, hint) = (AsyncProbes.AtCaller(known.Item1), known.Item2);
            }

            if (where is not null || hint is not null)
            {
                KnownNames.AddOrUpdate(target, Tuple.Create(where, hint));
            }

            var name = hint ?? $"{(kind == ResourceKind.Monitor ? "lock" : target is SemaphoreSlim ? "SemaphoreSlim" : TaskProbes.TypeName(target.GetType()))}@{SourceSite.ShortOf(where)}";

            // Its identity across iterations: where it was made and how many were made there before it.
            var ordinal = created.Ordinal > 0 ? created.Ordinal : this.NextOrdinal(where);
            info = this.Log.AddResource(kind, name, where, initial, max);
            this.Log.SetOrdinal(info, ordinal);
            info = info with { Ordinal = ordinal };
            this.resources.Add(target, info);
            this.targets.Add(info.Id, target);
            this.hints.Add(info.Id, hint);
            this.ordinals.Add(info.Id, ordinal);
            this.Emit(EventKind.Create, Recorder.CurrentTask, info.Id, where, initial);
        }

        return info;
    }

    private int NextOrdinal(SourceSite? where)
    {
        var key = where ?? SourceSite.Unknown;
        return this.creationsPerSite[key] = this.creationsPerSite.GetValueOrDefault(key) + 1;
    }

    public bool TryGetResource(object target, out ResourceInfo info) => this.resources.TryGetValue(target, out info!);

    /// <summary>Notes a releaser disposed; returns false when it already was (a second Dispose gives nothing back).</summary>
    public bool NoteDisposed(object releaser) => this.disposed.Add(releaser);

    /// <summary>Starts a task at a probe's emitted site.</summary>
    public TaskInfo StartTask(string entry, string? site, bool inline, bool promise = false) => this.StartTask(entry, SourceSite.Of(site), inline, promise);

    /// <summary>Starts a task at a site already resolved.</summary>
    public TaskInfo StartTask(string entry, SourceSite? site, bool inline, bool promise = false)
    {
        var info = this.Log.AddTask(entry, site, Recorder.CurrentTask, inline, promise);
        this.Emit(EventKind.TaskStart, info.Id, 0, AsyncProbes.AtCaller(site));
        return info;
    }

    public void BindTask(Task task, int id)
    {
        this.taskIds[task] = id;
        if (this.livesOn.Contains(id))
        {
            // Its body already returned the task it lives on in (StartNew of an async body): that one decides its end.
            return;
        }

        this.tasksById[id] = task;
        if (task.IsCompleted)
        {
            this.EndTask(id);
        }
    }

    public void EndTask(int id)
    {
        if (id > 0 && this.State.Tasks.TryGetValue(id, out var state) && !state.Ended)
        {
            this.Emit(EventKind.TaskEnd, id, 0, Recorder.NoSite);
        }
    }

    /// <summary>Marks <paramref name="resource"/> a signal released by the given methods: no lock, no leak when it ends short.</summary>
    public void MarkSignal(ResourceInfo resource, IReadOnlyList<string> releasers)
    {
        this.Log.SetReleasers(resource, releasers);
        this.Append(EventKind.Signaling, Recorder.CurrentTask, resource.Id, resource.Site, -1, 0, null);
    }

    /// <summary>Remembers where a task completion source was made and what it is stored into.</summary>
    public void NoteCompletionSource(object source, string site, string? hint) =>
        this.completionSources[source] = (AsyncProbes.Site(site), hint);

    /// <summary>Remembers which completion source hands out <paramref name="task"/>.</summary>
    public void NoteCompletionTask(Task task, object source)
    {
        if (!task.IsCompleted && !this.taskIds.ContainsKey(task))
        {
            this.completionTasks[task] = source;
        }
    }

    /// <summary>
    /// The task id of an awaited task a completion source hands out, made on first await: a task of its own, named for
    /// the source and where it was created, that ends when the source completes it. Null when the task is not one.
    /// </summary>
    public int? CompletionTaskId(Task task, string? producer = null)
    {
        if (!this.completionTasks.Remove(task, out var source))
        {
            return null;
        }

        var (site, hint) = this.completionSources.GetValueOrDefault(source);
        if (site is { HasLine: false } && producer is not null)
        {
            // Made inside a package without source lines: the call the awaiting code made says more.
            var from = producer.Contains('.', StringComparison.Ordinal) ? $"task from {producer}" : $"task in {producer}";
            var made = this.StartTask(from, Recorder.NoSite, false, promise: true);
            this.BindTask(task, made.Id);
            return made.Id;
        }

        var name = hint is null ? "TaskCompletionSource" : $"TaskCompletionSource {hint}";
        var info = this.StartTask(site is null ? name : $"{name} ({site.Short})", site, false, promise: true);
        this.BindTask(task, info.Id);
        return info.Id;
    }

    /// <summary>Notes the task of an async call run as part of its caller's task (awaited at once).</summary>
    public void NoteInline(Task task)
    {
        if (!task.IsCompleted)
        {
            this.inlineTasks.Add(task);
        }
    }

    /// <summary>Returns whether <paramref name="task"/> is one a probe saw start (or a join of such tasks).</summary>
    public bool IsKnownTask(Task task) => this.taskIds.ContainsKey(task) || this.joins.ContainsKey(task);

    /// <summary>Returns whether <paramref name="task"/> is an async call run as part of its caller's task.</summary>
    public bool IsInline(Task task) => this.inlineTasks.Contains(task);

    public void EnterInline(int task) => this.inlineDepth[task] = this.inlineDepth.GetValueOrDefault(task) + 1;

    public bool ExitInline(int task)
    {
        var depth = this.inlineDepth.GetValueOrDefault(task);
        if (depth == 0)
        {
            return false;
        }

        this.inlineDepth[task] = depth - 1;
        return true;
    }

    /// <summary>Task <paramref name="id"/> finishes when <paramref name="inner"/> does, not when the task object it was started as does.</summary>
    public void LivesOn(int id, Task inner)
    {
        this.livesOn.Add(id);
        this.tasksById[id] = inner;
    }

    public void Adopt(int parent, Task child)
    {
        if (this.taskIds.TryGetValue(child, out var id) && id > 0 && this.Log.Adopt(parent, id))
        {
            this.State.Merge(id, this.Log.Logical(parent));
        }
    }

    public void Join(Task combined, IEnumerable<Task> parts) =>
        this.joins[combined] = parts.SelectMany(p => this.Targets(p)).ToArray();

    /// <summary>The tasks an await of <paramref name="awaited"/> waits for; a task no probe started becomes one named for where it came from (<paramref name="producer"/>: the call, field or local the awaited value came from).</summary>
    public int[] Targets(Task awaited, string? producer = null)
    {
        if (this.joins.TryGetValue(awaited, out var parts))
        {
            return parts;
        }

        var id = this.taskIds.TryGetValue(awaited, out var known) ? known : this.CompletionTaskId(awaited, producer) ?? -1;
        if (id < 0)
        {
            // Made by code no probe watches (a package left alone, Task.FromResult, ContinueWith): named for where it came from.
            var name = producer is null ? "a task no instrumented code started"
                : producer.Contains('.', StringComparison.Ordinal) ? $"task from {producer}"
                : $"task in {producer}";
            id = this.StartTask(name, Recorder.NoSite, false, promise: true).Id;
            this.BindTask(awaited, id);
        }

        return [id];
    }

    private int TaskId(Task task) => this.taskIds.TryGetValue(task, out var id) ? id : this.CompletionTaskId(task) ?? -1;

    public void ObserveCompletions()
    {
        foreach (var (id, task) in this.tasksById)
        {
            if (task.IsCompleted)
            {
                this.EndTask(id);
            }
        }
    }

    public void ApplyGivenNames()
    {
        // Several resources created at one site get an ordinal, in the order they were created; a name given with ResourceName.Set wins.
        foreach (var group in this.Log.Resources.GroupBy(r => (this.hints[r.Id], r.Site)).Where(g => g.Count() > 1 || (g.Key.Item1?.EndsWith("[]", StringComparison.Ordinal) ?? false)))
        {
            var index = 0;
            foreach (var info in group.OrderBy(r => this.ordinals[r.Id]).ToList())
            {
                var hint = this.hints[info.Id] ?? info.Name;
                var name = hint.EndsWith("[]", StringComparison.Ordinal) ? $"{hint[..^2]}[{index}]" : $"{hint}#{index + 1}";
                this.Log.Rename(info, name);
                index++;
            }
        }

        foreach (var (id, target) in this.targets)
        {
            if (ResourceName.Get(target) is { } given)
            {
                this.Log.Rename(this.Log.Resource(id), given);
            }
        }
    }

    public (string Text, IReadOnlyList<int> Resources, IReadOnlyList<int> Tasks)? FindLeaks()
    {
        var parts = new List<string>();
        var leaked = new List<int>();
        var holdersOf = new List<int>();
        foreach (var state in this.State.Resources.Values.Where(r => !r.Declared))
        {
            var info = state.Info;
            var missing = info.Kind == ResourceKind.Monitor
                ? (state.HeldBy.Any(t => this.State.Tasks.TryGetValue(t, out var ts) && ts.Ended) ? 1 : 0)
                : info.Initial - state.Count;
            if (missing <= 0)
            {
                continue;
            }

            var name = ResourceName.Get(this.targets[info.Id]) ?? info.Name;
            leaked.Add(info.Id);
            holdersOf.AddRange(state.HeldBy);
            var holders = state.HeldBy.Select(t => $"{this.Log.Task(t).Entry} (task {t})").ToList();
            parts.Add(holders.Count > 0
                ? $"'{name}' is missing {missing} of {info.Initial} permit(s) at the end of the test; taken and never released by {string.Join(", ", holders)}"
                : $"'{name}' is missing {missing} of {info.Initial} permit(s) at the end of the test");
        }

        return parts.Count == 0 ? null : (string.Join("; ", parts), leaked, holdersOf);
    }

}
