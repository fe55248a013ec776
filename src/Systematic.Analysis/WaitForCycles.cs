using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>The wait-for graph of blocked tasks, between logical tasks, and the cycle in it that explains a deadlock.</summary>
internal sealed class WaitForCycles(LogView view)
{
    private readonly IterationLog log = view.Log;
    private readonly WaitForState state = view.State;

    /// <summary>An edge of the wait-for graph between logical tasks.</summary>
    internal sealed record Edge(int From, int To, int Resource, SourceSite? Site, int Waiter);

    /// <summary>The cycle among <paramref name="blocked"/> with the most resources (the shortest of those), or none.</summary>
    public List<Edge> Find(IEnumerable<TaskState> blocked)
    {
        var edges = this.Edges(blocked);
        var byFrom = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Resource == 0 ? 1 : 0).ToList());
        List<Edge>? best = null;
        foreach (var start in byFrom.Keys.OrderBy(k => k))
        {
            var path = new List<Edge>();
            var onPath = new HashSet<int>();
            if (Search(start) && (best is null || Score(path) > Score(best)))
            {
                best = path;
            }

            bool Search(int node)
            {
                onPath.Add(node);
                foreach (var edge in byFrom.GetValueOrDefault(node) ?? [])
                {
                    path.Add(edge);
                    if (edge.To == start || (!onPath.Contains(edge.To) && Search(edge.To)))
                    {
                        return true;
                    }

                    path.RemoveAt(path.Count - 1);
                }

                onPath.Remove(node);
                return false;
            }
        }

        return best ?? [];

        static int Score(List<Edge> cycle) => cycle.Count(e => e.Resource != 0) * 100 - cycle.Count;
    }

    private List<Edge> Edges(IEnumerable<TaskState> blocked)
    {
        var edges = new List<Edge>();
        var live = this.state.Tasks.Values.Where(t => !t.Ended).Select(t => t.Id).ToList();
        foreach (var task in blocked)
        {
            var from = view.Logical(task.Id);
            switch (task.Blocked)
            {
                case WaitingForResource w:
                    foreach (var blocker in this.Blockers(w, from, live).Distinct())
                    {
                        edges.Add(new Edge(from, view.Logical(blocker), w.Resource, w.Site, task.Id));
                    }

                    break;
                case AwaitingTasks a:
                    foreach (var target in a.Targets.Where(t => t > 0 && !view.Ended(t)))
                    {
                        if (view.Logical(target) != from)
                        {
                            edges.Add(new Edge(from, view.Logical(target), 0, a.Site, task.Id));
                        }
                    }

                    break;
            }
        }

        return edges;
    }

    /// <summary>The tasks a wait for a resource waits on: its live holders, and those expected to release it.</summary>
    private List<int> Blockers(WaitingForResource w, int from, List<int> live)
    {
        var resource = this.state.Resources[w.Resource];
        var blockers = resource.HeldBy.Where(h => !view.Ended(h)).ToList();
        if (resource.IsSignaling)
        {
            blockers.AddRange(resource.ForeignReleasers.Where(h => !view.Ended(h)));
        }

        if (resource.Info.Releasers is { Count: > 0 } releasers)
        {
            // A signal by its call sites: the live tasks running the code that releases it are the ones it waits for.
            blockers.AddRange(live.Where(t => view.Logical(t) != from && this.Runs(t, releasers)));
        }

        if (!LockOrder.IsLock(resource.Info) && blockers.All(b => view.Logical(b) == from))
        {
            // A counting semaphore only the waiter holds: the other tasks blocked on resources are the ones expected to release it.
            blockers.AddRange(live.Where(t => view.Logical(t) != from && this.state.Tasks[t].Blocked is WaitingForResource));
        }

        return blockers;
    }

    /// <summary>Whether task <paramref name="task"/> (or a call it made that runs as part of it) runs one of <paramref name="methods"/>, or is blocked inside one.</summary>
    private bool Runs(int task, IReadOnlyList<string> methods)
    {
        var logical = view.Logical(task);
        var blockedIn = this.state.Tasks.TryGetValue(task, out var s) && s.Blocked is { Site: { } site } ? site.Method : null;
        return (blockedIn is not null && methods.Contains(blockedIn)) ||
            this.log.Tasks.Any(t => view.Logical(t.Id) == logical && methods.Any(m => t.Entry == m || t.Entry.EndsWith("." + m, StringComparison.Ordinal)));
    }
}
