using Microsoft.Coyote.Random;

namespace Systematic.Recording;

/// <summary>
/// The recording of one iteration while it runs: its log, the wait-for state the log implies, and the steps the probes
/// report (<see cref="Emit(EventKind, int, int, SourceSite?, int, int, IReadOnlyList{int}?)"/>); the objects behind its
/// tasks and resources are tracked by <see cref="Tasks"/> and <see cref="Resources"/>.
/// </summary>
internal sealed class Session
{
    private readonly HashSet<int> directedPauses = [];
    private readonly Dictionary<int, (int Resource, SourceSite? Site, Task? Awaited)> pendingAsyncWaits = [];

    public Session(int id, IterationLog log)
    {
        this.Id = id;
        this.Log = log;
        this.Tasks = new TaskTable(this);
        this.Resources = new ResourceTable(this);
    }

    /// <summary>Gets the tasks this iteration started, by their <see cref="Task"/> objects.</summary>
    public TaskTable Tasks { get; }

    /// <summary>Gets the synchronization objects this iteration used, by identity.</summary>
    public ResourceTable Resources { get; }

    public int Id { get; }

    public IterationLog Log { get; }

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
            var free = this.Resources.TryGetTarget(pending.Resource, out var target) && target is SemaphoreSlim semaphore
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
            this.Resources.TryGetTarget(resource, out var target) && Systematic.Signaling.IsDeclared(target))
        {
            // Declared (possibly after it was created): analyses learn it from the log, before its first use counts.
            this.Append(EventKind.Signaling, task, resource, site, -1, 0, null);
        }

        if (site is not null && this.Tasks.CallerOf(task) is { } caller)
        {
            // In an async helper its caller awaits at once: where the helper was called says which use this is. A step
            // already placed at that call (inside a hidden wrapper, AsyncProbes.EnterCallerSite) is not placed there twice.
            while (caller is not null && caller.Key == site.Key)
            {
                caller = caller.CalledFrom;
            }

            site = caller is null ? site : site with { CalledFrom = caller };
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

    /// <summary>Marks <paramref name="resource"/> a signal released by the given methods: no lock, no leak when it ends short.</summary>
    public void MarkSignal(ResourceInfo resource, IReadOnlyList<string> releasers)
    {
        this.Log.SetReleasers(resource, releasers);
        this.Append(EventKind.Signaling, Recorder.CurrentTask, resource.Id, resource.Site, -1, 0, null);
    }
}
