namespace Systematic.Recording;

/// <summary>The synchronization objects an iteration used: each one's <see cref="ResourceInfo"/> by identity, its name (where it was made, what it was stored into, its rank there) and, at the end, the permits it is missing.</summary>
internal sealed class ResourceTable(Session session)
{
    // Where each resource seen so far was made and what it was stored into, across iterations and tests: an object made
    // before this iteration (a static semaphore) is still known by its name.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, Tuple<SourceSite?, string?>> KnownNames = [];

    private readonly Dictionary<object, ResourceInfo> resources = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, object> targets = [];
    private readonly Dictionary<int, string?> hints = [];
    private readonly Dictionary<int, int> ordinals = [];
    private readonly Dictionary<object, (SourceSite? Site, string? Hint, int Ordinal)> creations = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> creationsPerSite = new(StringComparer.Ordinal);
    private readonly HashSet<object> disposed = new(ReferenceEqualityComparer.Instance);

    /// <summary>Remembers where an object that may become a lock was created (a <c>new object()</c>, a <c>new Lock()</c>) and its creation order there.</summary>
    public void NoteCreation(object target, string site, string? hint)
    {
        var where = AsyncProbes.Site(site);
        var ordinal = this.NextOrdinal(where);
        this.creations[target] = (where, hint, ordinal);
    }

    public ResourceInfo Observe(object target, ResourceKind kind, string? site, string? hint, int initial, int max)
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
            info = session.Log.AddResource(kind, name, where, initial, max);
            session.Log.SetOrdinal(info, ordinal);
            info = info with { Ordinal = ordinal };
            this.resources.Add(target, info);
            this.targets.Add(info.Id, target);
            this.hints.Add(info.Id, hint);
            this.ordinals.Add(info.Id, ordinal);
            session.Emit(EventKind.Create, Recorder.CurrentTask, info.Id, where, initial);
        }

        return info;
    }

    private int NextOrdinal(SourceSite? where)
    {
        // Counted by where it was made (not by who called the helper that made it): the identity across iterations is that site's key.
        var key = where?.Key ?? "";
        return this.creationsPerSite[key] = this.creationsPerSite.GetValueOrDefault(key) + 1;
    }

    public bool TryGet(object target, out ResourceInfo info) => this.resources.TryGetValue(target, out info!);

    /// <summary>Notes a releaser disposed; returns false when it already was (a second Dispose gives nothing back).</summary>
    public bool NoteDisposed(object releaser) => this.disposed.Add(releaser);

    public void ApplyGivenNames()
    {
        // Several resources created at one site get an ordinal, in the order they were created; a name given with ResourceName.Set wins.
        foreach (var group in session.Log.Resources.GroupBy(r => (this.hints[r.Id], r.Site)).Where(g => g.Count() > 1 || (g.Key.Item1?.EndsWith("[]", StringComparison.Ordinal) ?? false)))
        {
            var index = 0;
            foreach (var info in group.OrderBy(r => this.ordinals[r.Id]).ToList())
            {
                var hint = this.hints[info.Id] ?? info.Name;
                var name = hint.EndsWith("[]", StringComparison.Ordinal) ? $"{hint[..^2]}[{index}]" : $"{hint}#{index + 1}";
                session.Log.Rename(info, name);
                index++;
            }
        }

        foreach (var (id, target) in this.targets)
        {
            if (ResourceName.Get(target) is { } given)
            {
                session.Log.Rename(session.Log.Resource(id), given);
            }
        }
    }

    public (string Text, IReadOnlyList<int> Resources, IReadOnlyList<int> Tasks)? FindLeaks()
    {
        var parts = new List<string>();
        var leaked = new List<int>();
        var holdersOf = new List<int>();
        foreach (var state in session.State.Resources.Values.Where(r => !r.Declared))
        {
            var info = state.Info;
            var missing = info.Kind == ResourceKind.Monitor
                ? (state.HeldBy.Any(t => session.State.Tasks.TryGetValue(t, out var ts) && ts.Ended) ? 1 : 0)
                : info.Initial - state.Count;
            if (missing <= 0)
            {
                continue;
            }

            var name = ResourceName.Get(this.targets[info.Id]) ?? info.Name;
            leaked.Add(info.Id);
            holdersOf.AddRange(state.HeldBy);
            var holders = state.HeldBy.Select(t => $"{session.Log.Task(t).Entry} (task {t})").ToList();
            parts.Add(holders.Count > 0
                ? $"'{name}' is missing {missing} of {info.Initial} permit(s) at the end of the test; taken and never released by {string.Join(", ", holders)}"
                : $"'{name}' is missing {missing} of {info.Initial} permit(s) at the end of the test");
        }

        return parts.Count == 0 ? null : (string.Join("; ", parts), leaked, holdersOf);
    }

    /// <summary>Gets the object behind resource <paramref name="id"/>.</summary>
    public bool TryGetTarget(int id, out object target) => this.targets.TryGetValue(id, out target!);
}
