using Systematic.Analysis;
using Systematic.Harness.Exploration;
using Systematic.Recording;

namespace Systematic.Harness;

/// <summary>A failing schedule with the fewest preemptions: the same failure (kind and resources), found by running every schedule with fewer first.</summary>
/// <param name="Trace">The trace file name, in the failure folder.</param>
/// <param name="Stats">Steps, switches and preemptions of the minimal schedule, the preemptions counted by the scheduler that made them.</param>
/// <param name="Iterations">Schedules the search ran.</param>
internal sealed record MinimalSchedule(string Trace, ScheduleStats Stats, long Iterations)
{
    /// <summary>Gets the preemptions below which every schedule was run without this failure: when it equals the schedule's preemptions, the schedule is minimal by construction.</summary>
    public int SearchedBelow { get; init; }

    /// <summary>Gets how many schedules with fewer preemptions were run (none had the failure).</summary>
    public long RunWithFewer { get; init; }

    /// <summary>Gets the time the search for it took, in seconds (part of the test's time).</summary>
    public double Seconds { get; init; }

    /// <summary>Gets whether no schedule with fewer preemptions has the failure: every one was run.</summary>
    public bool Minimal => this.SearchedBelow >= this.Stats.Preemptions;

    /// <summary>The failing schedule <paramref name="search"/> stopped at (fewest preemptions first), with how far below it the search had run.</summary>
    internal static MinimalSchedule Of(BoundedSearch search, BoundedFailure found) => new("minimal.trace", found.Stats, search.Schedules)
    {
        SearchedBelow = search.CompleteBelow,
        RunWithFewer = search.SchedulesByPreemptions.Take(found.Stats.Preemptions).Sum(),
    };
}

/// <summary>
/// Finds a schedule that reproduces a failure with the fewest preemptions: a <see cref="BoundedSearch"/> runs every
/// schedule with 0 preemptions, then every one with 1, and so on (CHESS's iterative context bounding), up to
/// <see cref="MaxBound"/> or the budget, and stops at the first with the same failure. Minimal by construction when
/// the search reached it; otherwise the report says how far it got.
/// </summary>
internal static class Minimizer
{
    /// <summary>The most preemptions searched for.</summary>
    public const int MaxBound = 3;

    /// <summary>The most schedules run.</summary>
    public const long Budget = 5_000;

    public static (MinimalSchedule Info, string Trace, IterationLog? Log)? Minimize(TestCase test, Diagnosis original, ExplorationOptions options, uint seed, CancellationToken cancellation = default)
    {
        var search = new BoundedSearch(MaxBound) { Budget = Budget, Mark = () => Recorder.Position };
        var found = BoundedExploration.Run(test, options with { Seed = seed }, search, d => d.IsSame(original.Kind, original.Resources), cancellation: cancellation);
        return found is null
            ? null
            : (MinimalSchedule.Of(search, found), found.Trace, found.Log);
    }
}
