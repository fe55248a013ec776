using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>An edge of the lock-order graph: <paramref name="To"/> was acquired while <paramref name="From"/> was held.</summary>
/// <param name="From">The held lock's identity across iterations.</param>
/// <param name="To">The acquired lock's identity across iterations.</param>
/// <param name="HeldSite">Where the held lock was taken.</param>
/// <param name="AcquireSite">Where the other was taken.</param>
/// <param name="Task">The task that took them.</param>
/// <param name="Iteration">The first iteration that took them in this order.</param>
internal sealed record LockOrderEdge(string From, string To, SourceSite? HeldSite, SourceSite? AcquireSite, string Task, long Iteration)
{
    /// <summary>Gets the held lock's name, as reports show it.</summary>
    public string FromName { get; init; } = From;

    /// <summary>Gets the acquired lock's name, as reports show it.</summary>
    public string ToName { get; init; } = To;
}

/// <summary>A cycle of the lock-order graph: a deadlock that some schedule may reach.</summary>
internal sealed record PotentialCycle(IReadOnlyList<LockOrderEdge> Edges, long FirstSeenIteration)
{
    /// <summary>Gets the cycle's identity: its locks, in a canonical order.</summary>
    public string Key => string.Join("->", this.Edges.Select(e => e.From).Order(StringComparer.Ordinal));

    /// <summary>Gets the locks of the cycle, in order, by name.</summary>
    public IReadOnlyList<string> Locks => this.Edges.Select(e => e.FromName).ToList();

    /// <summary>Gets a plain sentence describing the cycle.</summary>
    public string Sentence =>
        "Locks are taken in a cycle of orders, though no explored schedule deadlocked: " +
        string.Join("; ", this.Edges.Select(e => $"`{e.Task}` takes `{e.ToName}` at {LogView.Short(e.AcquireSite)} while holding `{e.FromName}` (taken at {LogView.Short(e.HeldSite)})")) +
        ". A schedule that interleaves these tasks can deadlock.";
}

/// <summary>
/// Lock-order prediction, as the Linux kernel's lockdep does: across all iterations of a test, including passing ones,
/// remember "lock B acquired while holding lock A"; a cycle is a potential deadlock. Only exclusive resources take part
/// (monitors and semaphores with a maximum of one permit): a cycle through a counting semaphore is not necessarily a
/// deadlock, and a signaling semaphore is not a lock. Edges taken while a common other lock (a gate) is held by all
/// of the cycle's acquisitions are not reported, since that gate serializes them.
/// </summary>
internal sealed class LockOrderGraph
{
    /// <summary>The longest cycle searched for (a ring of this many diners).</summary>
    private const int MaxCycle = 16;

    private readonly Dictionary<(string From, string To), (LockOrderEdge Edge, HashSet<string> Gates)> edges = [];

    /// <summary>Adds the lock orders the recorder noted in one iteration; returns whether any was new.</summary>
    public bool Observe(IterationLog log, long iteration)
    {
        var added = false;
        LogView? view = null;
        foreach (var order in log.LockOrders)
        {
            // Locks are instances, known across iterations by where they were made and their order there (their name's #n).
            var name = Key(log.Resource(order.Held));
            var acquired = Key(log.Resource(order.Acquired));
            var gates = order.Others.Select(o => Key(log.Resource(o))).ToHashSet(StringComparer.Ordinal);
            if (this.edges.TryGetValue((name, acquired), out var existing))
            {
                existing.Gates.IntersectWith(gates);
            }
            else
            {
                // Task names cost a pass over the log: only for edges never seen before.
                view ??= new LogView(log);
                added = true;
                this.edges[(name, acquired)] = (new LockOrderEdge(name, acquired, order.HeldSite, order.AcquireSite, view.TaskName(order.Task), iteration)
                {
                    FromName = LogView.Clean(log.Resource(order.Held).Name),
                    ToName = LogView.Clean(log.Resource(order.Acquired).Name),
                }, gates);
            }
        }
        return added;
    }

    private static string Key(ResourceInfo resource) => resource.Ordinal > 0 ? resource.Key : $"{resource.Site?.Key}|{resource.Name}";

    /// <summary>Finds the cycles of the graph (each once, shortest first).</summary>
    public IReadOnlyList<PotentialCycle> Cycles()
    {
        var byFrom = this.edges.Values.GroupBy(e => e.Edge.From).ToDictionary(g => g.Key, g => g.ToList());
        var found = new List<PotentialCycle>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in byFrom.Keys.Order(StringComparer.Ordinal))
        {
            var path = new List<(LockOrderEdge Edge, HashSet<string> Gates)>();
            Search(start, new HashSet<string>(StringComparer.Ordinal) { start });

            void Search(string node, HashSet<string> onPath)
            {
                foreach (var edge in byFrom.GetValueOrDefault(node) ?? [])
                {
                    path.Add(edge);
                    if (edge.Edge.To == start)
                    {
                        var key = string.Join("->", path.Select(p => p.Edge.From).Order(StringComparer.Ordinal));
                        var common = path.Skip(1).Aggregate(new HashSet<string>(path[0].Gates, StringComparer.Ordinal), (acc, p) => { acc.IntersectWith(p.Gates); return acc; });
                        if (common.Count == 0 && seen.Add(key))
                        {
                            found.Add(new PotentialCycle(path.Select(p => p.Edge).ToList(), path.Max(p => p.Edge.Iteration)));
                        }
                    }
                    else if (onPath.Add(edge.Edge.To) && path.Count < MaxCycle)
                    {
                        Search(edge.Edge.To, onPath);
                        onPath.Remove(edge.Edge.To);
                    }

                    path.RemoveAt(path.Count - 1);
                }
            }
        }

        return found.OrderBy(c => c.Edges.Count).ThenBy(c => c.FirstSeenIteration).ToList();
    }

}
