namespace Systematic.Recording;

/// <summary>What a task is blocked on, if anything.</summary>
public abstract record Blocking(SourceSite? Site, int Seq);

/// <summary>Blocked waiting for a permit of a resource.</summary>
public sealed record WaitingForResource(int Resource, SourceSite? Site, int Seq) : Blocking(Site, Seq);

/// <summary>Blocked in <c>Monitor.Wait</c>, waiting for a pulse of the monitor (then for the monitor itself).</summary>
public sealed record WaitingForPulse(int Resource, SourceSite? Site, int Seq) : Blocking(Site, Seq);

/// <summary>Blocked awaiting tasks that have not finished (-1: a task no probe started, such as a TaskCompletionSource's).</summary>
public sealed record AwaitingTasks(IReadOnlyList<int> Targets, SourceSite? Site, int Seq) : Blocking(Site, Seq);

/// <summary>
/// The who-holds and who-waits state of an iteration, obtained by applying its events in order. The live recorder
/// and every analysis use this same model.
/// </summary>
public sealed class WaitForState
{
    private readonly Dictionary<int, ResourceState> resources = [];
    private readonly Dictionary<int, TaskState> tasks = [];

    /// <summary>Gets the state of each resource seen so far.</summary>
    public IReadOnlyDictionary<int, ResourceState> Resources => this.resources;

    /// <summary>Gets the state of each task seen so far.</summary>
    public IReadOnlyDictionary<int, TaskState> Tasks => this.tasks;

    /// <summary>Replays every event of <paramref name="log"/>.</summary>
    public static WaitForState Replay(IterationLog log)
    {
        var state = new WaitForState();
        foreach (var e in log.Events)
        {
            state.Apply(e, log);
        }

        return state;
    }

    /// <summary>The tasks waiting in <c>Monitor.Wait</c> on <paramref name="resource"/>, longest waiting first.</summary>
    public IEnumerable<int> PulseWaiters(int resource) =>
        this.tasks.Values.Where(t => !t.Ended && t.Blocked is WaitingForPulse w && w.Resource == resource).OrderBy(t => t.Blocked!.Seq).Select(t => t.Id);

    /// <summary>Applies one event.</summary>
    public void Apply(RecordedEvent e, IterationLog log)
    {
        var task = e.Task > 0 ? this.TaskOf(e.Task) : null;
        var resource = e.Resource > 0 ? this.ResourceOf(log.Resource(e.Resource)) : null;
        if (task is not null && e.Kind is not EventKind.Await and not EventKind.Wait and not EventKind.WaitForPulse)
        {
            // A task that records anything else is running, so no longer blocked.
            task.Blocked = null;
        }

        switch (e.Kind)
        {
            case EventKind.TaskEnd when task is not null:
                task.Ended = true;
                break;
            case EventKind.Create:
                resource!.Count = e.Count;
                break;
            case EventKind.Wait when task is not null:
                task.Blocked = new WaitingForResource(e.Resource, e.Site, e.Seq);
                break;
            case EventKind.WaitForPulse when task is not null:
                task.Blocked = new WaitingForPulse(e.Resource, e.Site, e.Seq);
                break;
            case EventKind.Await when task is not null:
                this.Awaited(task, e);
                break;
            case EventKind.Acquire:
                Acquired(resource!, log.Logical(e.Task), e);
                break;
            case EventKind.Release:
                Released(resource!, log.Logical(e.Task), e);
                break;
            case EventKind.Signaling:
                resource!.Declared = true;
                break;
            case EventKind.Pulse or EventKind.PulseAll:
                this.Pulsed(resource!, e);
                break;
        }
    }

    private static void Acquired(ResourceState resource, int taker, RecordedEvent e)
    {
        // A handed-over permit was already counted out at the release.
        resource.Count = e.Count >= 0 ? e.Count : resource.Count;
        resource.Holders[taker] = resource.Holders.GetValueOrDefault(taker) + 1;
        resource.AcquireSites[taker] = e.Site;
    }

    private static void Released(ResourceState resource, int releaser, RecordedEvent e)
    {
        resource.Count = e.Count >= 0 ? e.Count : resource.Count + e.Amount;
        var held = resource.Holders.GetValueOrDefault(releaser);
        if (held >= e.Amount)
        {
            resource.Holders[releaser] = held - e.Amount;
        }
        else
        {
            // Released by a task that did not take it: the resource is used for signaling.
            resource.Holders[releaser] = 0;
            resource.ForeignReleasers.Add(releaser);
        }
    }

    /// <summary>An await blocks its task while any task it awaits (or one no probe started, -1) has not ended.</summary>
    private void Awaited(TaskState task, RecordedEvent e)
    {
        if (e.Targets is { Count: > 0 } targets && targets.Any(t => t < 0 || !this.TaskOf(t).Ended))
        {
            task.Blocked = new AwaitingTasks(targets, e.Site, e.Seq);
        }
    }

    private void Pulsed(ResourceState resource, RecordedEvent e)
    {
        foreach (var woken in e.Targets ?? [])
        {
            if (this.tasks.TryGetValue(woken, out var waiter) && waiter.Blocked is WaitingForPulse pulsed)
            {
                // Woken: it now waits to take the monitor back.
                waiter.Blocked = new WaitingForResource(pulsed.Resource, pulsed.Site, e.Seq);
            }
        }

        resource.LastPulse = e;
    }

    /// <summary>
    /// Moves what task <paramref name="from"/> holds to task <paramref name="into"/>, which it turned out to be part of
    /// (a Task.Run body's async method, adopted once the body returned it): releases it makes later count against them.
    /// </summary>
    internal void Merge(int from, int into)
    {
        foreach (var resource in this.resources.Values)
        {
            if (resource.Holders.Remove(from, out var held) && held > 0)
            {
                resource.Holders[into] = resource.Holders.GetValueOrDefault(into) + held;
                if (resource.AcquireSites.Remove(from, out var site))
                {
                    resource.AcquireSites[into] = site;
                }
            }
        }
    }

    private TaskState TaskOf(int id)
    {
        if (!this.tasks.TryGetValue(id, out var state))
        {
            state = new TaskState(id);
            this.tasks.Add(id, state);
        }

        return state;
    }

    private ResourceState ResourceOf(ResourceInfo info)
    {
        if (!this.resources.TryGetValue(info.Id, out var state))
        {
            state = new ResourceState(info);
            this.resources.Add(info.Id, state);
        }

        return state;
    }
}

/// <summary>A resource's permits and holders at some point of an iteration.</summary>
public sealed class ResourceState(ResourceInfo info)
{
    /// <summary>Gets the resource.</summary>
    public ResourceInfo Info { get; } = info;

    /// <summary>Gets the free permits (for a monitor: 1 free, 0 held).</summary>
    public int Count { get; internal set; } = info.Initial;

    /// <summary>Gets how many permits each logical task holds.</summary>
    public Dictionary<int, int> Holders { get; } = [];

    /// <summary>Gets where each holder last acquired.</summary>
    public Dictionary<int, SourceSite?> AcquireSites { get; } = [];

    /// <summary>Gets the tasks that released permits they had not taken (signaling use).</summary>
    public HashSet<int> ForeignReleasers { get; } = [];

    /// <summary>Gets a value indicating whether the resource was declared a signal or item count (<c>Signaling.Declare</c>).</summary>
    public bool Declared { get; internal set; }

    /// <summary>Gets a value indicating whether the resource is declared a signal, or some task released permits it had not taken, as producer/consumer code does.</summary>
    public bool IsSignaling => this.Declared || this.ForeignReleasers.Count > 0;

    /// <summary>Gets the last <c>Monitor.Pulse</c> or <c>PulseAll</c> of this monitor, or null.</summary>
    public RecordedEvent? LastPulse { get; internal set; }

    /// <summary>Gets the tasks holding at least one permit.</summary>
    public IEnumerable<int> HeldBy => this.Holders.Where(h => h.Value > 0).Select(h => h.Key);
}

/// <summary>A task's progress at some point of an iteration.</summary>
public sealed class TaskState(int id)
{
    /// <summary>Gets the task id.</summary>
    public int Id { get; } = id;

    /// <summary>Gets a value indicating whether the task finished.</summary>
    public bool Ended { get; internal set; }

    /// <summary>Gets what the task is blocked on, or null when it is running or finished.</summary>
    public Blocking? Blocked { get; internal set; }
}
