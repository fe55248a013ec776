namespace Systematic.Recording;

/// <summary>The tasks an iteration started, by their <see cref="Task"/> objects: which id each has, which ran inline in its caller, which a completion source hands out, which a combinator joins, and when each ended.</summary>
internal sealed class TaskTable(Session session)
{
    private readonly Dictionary<Task, int> taskIds = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, Task> tasksById = [];
    private readonly HashSet<int> livesOn = [];
    private readonly HashSet<Task> inlineTasks = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, (SourceSite? Site, string? Hint)> completionSources = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Task, object> completionTasks = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Task, int[]> joins = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, Stack<SourceSite?>> inlineCalls = [];

    /// <summary>Starts a task at a probe's emitted site.</summary>
    public TaskInfo Start(string entry, string? site, bool inline, bool promise = false) => this.Start(entry, SourceSite.Of(site), inline, promise);

    /// <summary>Starts a task at a site already resolved.</summary>
    public TaskInfo Start(string entry, SourceSite? site, bool inline, bool promise = false)
    {
        var info = session.Log.AddTask(entry, site, Recorder.CurrentTask, inline, promise);
        session.Emit(EventKind.TaskStart, info.Id, 0, AsyncProbes.AtCaller(site));
        return info;
    }

    public void Bind(Task task, int id)
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
            this.End(id);
        }
    }

    public void End(int id)
    {
        if (id > 0 && session.State.Tasks.TryGetValue(id, out var state) && !state.Ended)
        {
            session.Emit(EventKind.TaskEnd, id, 0, Recorder.NoSite);
        }
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
            var made = this.Start(from, Recorder.NoSite, false, promise: true);
            this.Bind(task, made.Id);
            return made.Id;
        }

        var name = hint is null ? "TaskCompletionSource" : $"TaskCompletionSource {hint}";
        var info = this.Start(site is null ? name : $"{name} ({site.Short})", site, false, promise: true);
        this.Bind(task, info.Id);
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
    public bool IsKnown(Task task) => this.taskIds.ContainsKey(task) || this.joins.ContainsKey(task);

    /// <summary>Returns whether <paramref name="task"/> is an async call run as part of its caller's task.</summary>
    public bool IsInline(Task task) => this.inlineTasks.Contains(task);

    /// <summary>Task <paramref name="task"/> calls an async method and awaits it at once, at <paramref name="calledAt"/>: what that method records is its caller's, called from there.</summary>
    public void EnterInline(int task, SourceSite? calledAt)
    {
        if (!this.inlineCalls.TryGetValue(task, out var calls))
        {
            calls = new Stack<SourceSite?>();
            this.inlineCalls.Add(task, calls);
        }

        var outer = calls.Count > 0 ? calls.Peek() : null;
        calls.Push(calledAt is null ? outer : calledAt with { CalledFrom = SourceSite.Trim(outer, SourceSite.MaxCallers - 1) });
    }

    /// <summary>An async method awaited at once completes; false when the task had none running (its own body completes).</summary>
    public bool ExitInline(int task)
    {
        if (!this.inlineCalls.TryGetValue(task, out var calls) || calls.Count == 0)
        {
            return false;
        }

        calls.Pop();
        return true;
    }

    /// <summary>Gets where the code task <paramref name="task"/> runs now was called from, innermost call first, when it runs in an async method its own code awaited at once; null in its own body.</summary>
    public SourceSite? CallerOf(int task) => this.inlineCalls.TryGetValue(task, out var calls) && calls.Count > 0 ? calls.Peek() : null;

    /// <summary>Task <paramref name="id"/> finishes when <paramref name="inner"/> does, not when the task object it was started as does.</summary>
    public void LivesOn(int id, Task inner)
    {
        this.livesOn.Add(id);
        this.tasksById[id] = inner;
    }

    public void Adopt(int parent, Task child)
    {
        if (this.taskIds.TryGetValue(child, out var id) && id > 0 && session.Log.Adopt(parent, id))
        {
            session.State.Merge(id, session.Log.Logical(parent));
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
            id = this.Start(name, Recorder.NoSite, false, promise: true).Id;
            this.Bind(awaited, id);
        }

        return [id];
    }

    public void ObserveCompletions()
    {
        foreach (var (id, task) in this.tasksById)
        {
            if (task.IsCompleted)
            {
                this.End(id);
            }
        }
    }
}
