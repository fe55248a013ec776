using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>A recorded iteration seen as a developer thinks of it: logical tasks with readable names, resources by name, sites as File.cs:41.</summary>
internal sealed class LogView
{
    private readonly Dictionary<int, string> names = [];
    private HashSet<int>? quietInternals;

    /// <summary>Creates a view of <paramref name="log"/> at its end.</summary>
    public LogView(IterationLog log)
    {
        this.Log = log;
        this.State = WaitForState.Replay(log);
        var logical = log.Tasks.Where(t => this.Logical(t.Id) == t.Id).ToList();
        foreach (var group in logical.GroupBy(t => ShortEntry(this.NamedBy(t))))
        {
            var members = group.OrderBy(t => t.Id).ToList();
            for (var i = 0; i < members.Count; i++)
            {
                this.names[members[i].Id] = Clean(members.Count > 1 ? $"{group.Key}#{i + 1}" : group.Key);
            }
        }
    }

    /// <summary>Gets the log.</summary>
    public IterationLog Log { get; }

    /// <summary>Gets the who-holds/who-waits state.</summary>
    public WaitForState State { get; }

    /// <summary>Gets the logical task a task belongs to (see <see cref="IterationLog.Logical"/>).</summary>
    public int Logical(int task) => this.Log.Logical(task);

    /// <summary>Gets the leaked permits: each resource not used for signalling that a task finished holding, with that task and where it last took it.</summary>
    public IReadOnlyList<(int Resource, int Task, SourceSite? Site)> Leaks()
    {
        var leaks = new List<(int, int, SourceSite?)>();
        foreach (var resource in this.State.Resources.Values.Where(r => !r.IsSignaling))
        {
            foreach (var holder in resource.HeldBy.Where(this.Ended))
            {
                leaks.Add((resource.Info.Id, this.Logical(holder), resource.AcquireSites.GetValueOrDefault(holder)));
            }
        }

        return leaks;
    }

    /// <summary>
    /// Gets the steps someone debugging the failure wants to stop at, in order: each wait a task is still blocked in at
    /// the end (and the last pulse of a monitor it waits for a pulse of), the acquire of each permit whose holder
    /// finished without releasing it, and each over-release.
    /// </summary>
    public IReadOnlyList<RecordedEvent> KeySteps()
    {
        var steps = new HashSet<int>();
        foreach (var task in this.State.Tasks.Values.Where(t => !t.Ended && t.Blocked is WaitingForResource or WaitingForPulse))
        {
            steps.Add(task.Blocked!.Seq);
            if (task.Blocked is WaitingForPulse p && this.State.Resources[p.Resource].LastPulse is { } pulse)
            {
                // The pulse that did not wake it.
                steps.Add(pulse.Seq);
            }
        }

        foreach (var leak in this.Leaks())
        {
            if (this.Log.Events.LastOrDefault(e => e.Kind == EventKind.Acquire && e.Resource == leak.Resource && this.Logical(e.Task) == leak.Task) is { } acquire)
            {
                steps.Add(acquire.Seq);
            }
        }

        steps.UnionWith(this.Log.Events.Where(e => e.Kind == EventKind.OverRelease).Select(e => e.Seq));
        return this.Log.Events.Where(e => steps.Contains(e.Seq)).ToList();
    }

    /// <summary>
    /// Gets the resources inside code without source lines (a package's own locks) that no task ever waited for, taken
    /// and released as often: they explain nothing, and the timeline leaves them out.
    /// </summary>
    public IReadOnlySet<int> QuietInternals => this.quietInternals ??= this.FindQuietInternals();

    private HashSet<int> FindQuietInternals()
    {
        var quiet = new HashSet<int>();
        var all = this.Log.Events;
        foreach (var group in all.Select((e, i) => (Event: e, Index: i)).Where(x => x.Event.Resource > 0).GroupBy(x => x.Event.Resource))
        {
            var events = group.ToList();
            var sourced = events.Any(x => x.Event.Kind != EventKind.Create && x.Event.Site is { Line: > 0 });
            var contended = events.Any(x => x.Event.Kind is EventKind.WaitForPulse or EventKind.Pulse or EventKind.PulseAll or EventKind.TimedOut or EventKind.Cancelled or EventKind.OverRelease ||
                (x.Event.Kind == EventKind.Wait && !(x.Index + 1 < all.Count && all[x.Index + 1] is { Kind: EventKind.Acquire } next && next.Task == x.Event.Task && next.Resource == x.Event.Resource)));
            var balanced = events.Where(x => x.Event.Kind == EventKind.Acquire).Sum(x => x.Event.Amount) == events.Where(x => x.Event.Kind == EventKind.Release).Sum(x => x.Event.Amount);
            if (!sourced && !contended && balanced && events.Any(x => x.Event.Kind == EventKind.Acquire))
            {
                quiet.Add(group.Key);
            }
        }

        return quiet;
    }

    /// <summary>
    /// Gets the events a timeline shows: starts and ends of logical tasks only, no creations, no awaits of a task's own
    /// helpers, and no wait that the same task's acquire answered at once, nor the quiet internals of packages.
    /// </summary>
    public IReadOnlyList<RecordedEvent> TimelineEvents()
    {
        var all = this.Log.Events;
        var shown = new List<RecordedEvent>();
        for (var i = 0; i < all.Count; i++)
        {
            var e = all[i];
            var hidden = e.Resource > 0 && this.QuietInternals.Contains(e.Resource) || e.Kind switch
            {
                EventKind.Create or EventKind.Signaling => true,
                EventKind.TaskStart or EventKind.TaskEnd => e.Task > 0 && this.Logical(e.Task) != e.Task,
                EventKind.Await => e.Targets is { } targets && targets.All(t => t > 0 && this.Logical(t) == this.Logical(e.Task)),
                EventKind.Wait => i + 1 < all.Count && all[i + 1] is { Kind: EventKind.Acquire } next && next.Task == e.Task && next.Resource == e.Resource,
                _ => false,
            };
            if (!hidden)
            {
                shown.Add(e);
            }
        }

        return shown;
    }

    /// <summary>Gets a task's readable name (the name of its logical task).</summary>
    public string TaskName(int task) => task switch
    {
        < 0 => "a task no instrumented code started",
        0 => "code outside any task",
        _ => this.names.TryGetValue(this.Logical(task), out var name) ? name : $"task {task}",
    };

    /// <summary>Gets a resource's name.</summary>
    public string ResourceName(int resource) => Clean(this.Log.Resource(resource).Name);

    /// <summary>Makes a name safe to put between backticks in a sentence: no backticks, no control characters, bounded length.</summary>
    public static string Clean(string name)
    {
        var chars = name.Select(c => c == '`' ? '\'' : char.IsControl(c) ? ' ' : c).ToArray();
        var text = new string(chars);
        return text.Length > 120 ? text[..120] + "…" : text;
    }

    /// <summary>Gets <c>File.cs:41</c> for a site, with where its async helper was called from (<see cref="SourceSite.Described"/>), or "?".</summary>
    public static string Short(SourceSite? site) => SourceSite.DescribedOf(site);

    /// <summary>Gets whether a task's logical task has ended (an awaited helper that returned is not the end of its caller).</summary>
    public bool Ended(int task)
    {
        var logical = this.Logical(task);
        return logical > 0 && this.State.Tasks.TryGetValue(logical, out var state) && state.Ended;
    }

    /// <summary>A lambda task is named after the first named method it runs in its own flow (Task.Run(async () => await Fetch()) is Fetch).</summary>
    private TaskInfo NamedBy(TaskInfo task)
    {
        if (task.Id == 1 || !task.Entry.EndsWith(".lambda", StringComparison.Ordinal))
        {
            return task;
        }

        // The method where the task first touches a resource, else the first named async method it runs inline.
        var first = this.Log.Events.FirstOrDefault(e => e.Resource > 0 && e.Task > 0 && e.Kind is EventKind.Wait or EventKind.Acquire && this.Logical(e.Task) == task.Id);
        if (first?.Site?.Method is { } method && !method.EndsWith(".lambda", StringComparison.Ordinal))
        {
            return task with { Entry = method };
        }

        return this.Log.Tasks.FirstOrDefault(t => t.Id > task.Id && t.Inline && !t.Entry.EndsWith(".lambda", StringComparison.Ordinal) && this.Logical(t.Id) == task.Id) ?? task;
    }

    private static string ShortEntry(TaskInfo task)
    {
        var entry = task.Entry;
        if (task.Promise)
        {
            return entry;
        }

        if (task.Id == 1)
        {
            var dot = entry.LastIndexOf('.');
            return dot >= 0 ? entry[(dot + 1)..] : entry;
        }

        var first = entry.IndexOf('.', StringComparison.Ordinal);
        return first >= 0 ? entry[(first + 1)..] : entry;
    }
}
