namespace Systematic.Recording;

/// <summary>
/// Everything recorded during one iteration of one test: the tasks and resources that took part and the events
/// in order. Reports, pictures, prediction and minimization all read this one model.
/// </summary>
public sealed class IterationLog
{
    private readonly List<RecordedEvent> events = [];
    private readonly List<ResourceInfo> resources = [];
    private readonly List<TaskInfo> tasks = [];
    private List<LockOrder>? lockOrders;
    private List<UncontrolledCall>? uncontrolled;
    private bool frozen;

    /// <summary>Creates an empty log for the named test.</summary>
    public IterationLog(string test) => this.Test = test;

    /// <summary>Gets the test's full name.</summary>
    public string Test { get; }

    /// <summary>Gets the events in order.</summary>
    public IReadOnlyList<RecordedEvent> Events => this.events;

    /// <summary>Gets the resources, by id - 1.</summary>
    public IReadOnlyList<ResourceInfo> Resources => this.resources;

    /// <summary>Gets the tasks, by id - 1.</summary>
    public IReadOnlyList<TaskInfo> Tasks => this.tasks;

    /// <summary>Gets the lock orders seen while recording: a lock acquired while the same task held others (none for logs read back from disk).</summary>
    public IReadOnlyList<LockOrder> LockOrders => this.lockOrders ?? (IReadOnlyList<LockOrder>)[];

    /// <summary>Gets the calls made into code Coyote does not control (channels, Parallel, ReaderWriterLockSlim, ...), each once per site and task.</summary>
    public IReadOnlyList<UncontrolledCall> UncontrolledCalls => this.uncontrolled ?? (IReadOnlyList<UncontrolledCall>)[];

    /// <summary>Gets the failure Systematic's own checks found, if they found one (a leak at the end of the test, an over-release).</summary>
    public DetectedFailure? Detected { get; internal set; }

    /// <summary>Gets the failure message that stopped recording, if any.</summary>
    public string? Failure { get; internal set; }

    /// <summary>Gets a value indicating whether recording stopped (at a failure or at the end of the test).</summary>
    public bool Frozen
    {
        get => this.frozen;
        internal set
        {
            lock (this.events)
            {
                this.frozen = value;
            }
        }
    }

    /// <summary>Gets the number of events dropped because the log was full.</summary>
    public int Dropped { get; internal set; }

    /// <summary>Gets a resource by id.</summary>
    public ResourceInfo Resource(int id) => this.resources[id - 1];

    /// <summary>Gets a task by id.</summary>
    public TaskInfo Task(int id) => this.tasks[id - 1];

    /// <summary>Rebuilds a log from its parts (for logs read back from disk).</summary>
    public static IterationLog Create(string test, IEnumerable<TaskInfo> tasks, IEnumerable<ResourceInfo> resources, IEnumerable<RecordedEvent> events, string? failure, DetectedFailure? detected = null, IEnumerable<UncontrolledCall>? uncontrolled = null)
    {
        var log = new IterationLog(test) { Failure = failure, Frozen = true, Detected = detected };
        if (uncontrolled?.ToList() is { Count: > 0 } calls)
        {
            log.uncontrolled = calls;
        }

        log.tasks.AddRange(tasks);
        log.resources.AddRange(resources);
        log.events.AddRange(events);
        return log;
    }

    /// <summary>Gets the logical task a task belongs to: an async call awaited at once, or the body a Task.Run delegate returns, is part of its starter.</summary>
    public int Logical(int task)
    {
        for (var guard = 0; task > 0 && task <= this.tasks.Count && guard < 100_000; guard++)
        {
            var info = this.tasks[task - 1];
            if (!info.Inline || info.Parent <= 0)
            {
                break;
            }

            task = info.Parent;
        }

        return task;
    }

    internal int NextSeq => this.events.Count + 1;

    internal void AddLockOrder(LockOrder order) => (this.lockOrders ??= []).Add(order);

    internal void AddUncontrolled(UncontrolledCall call)
    {
        lock (this.events)
        {
            if (!this.frozen && !(this.uncontrolled ??= []).Contains(call))
            {
                this.uncontrolled.Add(call);
            }
        }
    }

    /// <summary>Marks <paramref name="child"/> part of <paramref name="parent"/>; returns whether it was not already.</summary>
    internal bool Adopt(int parent, int child)
    {
        var info = this.tasks[child - 1];
        if (info.Parent != parent || info.Inline)
        {
            return false;
        }

        this.tasks[child - 1] = info with { Inline = true };
        var starter = this.tasks[parent - 1];
        if (starter.Entry.EndsWith(".lambda", StringComparison.Ordinal))
        {
            // Task.Run(() => Worker(i)) is a task named Worker.
            this.tasks[parent - 1] = starter with { Entry = info.Entry };
        }

        return true;
    }

    /// <summary>Appends an event; once frozen the log is read by analyses on other threads, so late events (a stray continuation after Coyote stopped the iteration) are dropped.</summary>
    internal bool Add(RecordedEvent e)
    {
        lock (this.events)
        {
            if (this.frozen)
            {
                return false;
            }

            this.events.Add(e);
            return true;
        }
    }

    internal ResourceInfo AddResource(ResourceKind kind, string name, SourceSite? site, int initial, int max)
    {
        var info = new ResourceInfo(this.resources.Count + 1, kind, name, site, initial, max);
        this.resources.Add(info);
        return info;
    }

    internal TaskInfo AddTask(string entry, SourceSite? site, int parent, bool inline, bool promise = false)
    {
        var info = new TaskInfo(this.tasks.Count + 1, entry, site, parent, inline) { Promise = promise };
        this.tasks.Add(info);
        return info;
    }

    internal void Rename(ResourceInfo info, string name) => this.resources[info.Id - 1] = this.resources[info.Id - 1] with { Name = name };

    internal void SetOrdinal(ResourceInfo info, int ordinal) => this.resources[info.Id - 1] = this.resources[info.Id - 1] with { Ordinal = ordinal };

    internal void SetFault(int task, TaskFault fault) => this.tasks[task - 1] = this.tasks[task - 1] with { EndedBy = fault };

    internal void SetReleasers(ResourceInfo info, IReadOnlyList<string> releasers) => this.resources[info.Id - 1] = this.resources[info.Id - 1] with { Releasers = releasers };
}
