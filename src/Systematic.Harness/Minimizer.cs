using Systematic.Analysis;

namespace Systematic.Harness;

/// <summary>A failing schedule shrunk to its fewest preemptions: the same failure (kind and resources) found with the smallest delay bound.</summary>
/// <param name="Trace">The trace file name, in the failure folder.</param>
/// <param name="DelayBound">The delay bound that sufficed (a bound on the preemptions the scheduler may introduce).</param>
/// <param name="Stats">Steps, switches and preemptions of the minimal schedule.</param>
/// <param name="Iterations">Iterations the search ran.</param>
public sealed record MinimalSchedule(string Trace, uint DelayBound, ScheduleStats Stats, long Iterations)
{
    /// <summary>Gets the bounds below which the search found no schedule with the failure (bounds 0 to this minus 1 were searched in vain).</summary>
    public uint SearchedBelow { get; init; }
}

/// <summary>
/// Searches for a schedule that reproduces a failure with as few preemptions as possible: re-runs the test with Coyote's
/// delay-bounding strategy at bounds 0, 1, 2, 3 (a bound on the preemptions its schedules take) and keeps, of the
/// schedules that hit the same failure, the one with the fewest preemptions counted from its recording, stopping at
/// the first bound that reaches it.
/// </summary>
internal static class Minimizer
{
    private const uint MaxBound = 3;

    /// <summary>Schedules tried per bound.</summary>
    private const uint BudgetPerBound = 50;

    public static (MinimalSchedule Info, string Trace)? Minimize(TestCase test, Diagnosis original, RunOptions options, uint seed)
    {
        var budget = Math.Min(options.Iterations, BudgetPerBound);
        long iterations = 0;
        (MinimalSchedule Info, string Trace)? best = null;
        for (var bound = 0u; bound <= MaxBound; bound++)
        {
            var search = TestRunner.Search(test, TestRunner.Configure(options with { Strategy = "delay-bounding", StrategyBound = bound, Iterations = budget, Timeout = null }, seed + (bound * 7_919u)));
            iterations += search.Iterations;
            if (search.Diagnosis is { } found && found.IsSame(original.Kind, original.Resources))
            {
                var stats = ScheduleStats.Of(search.Trace, search.Log);
                if (best is null || (stats.Preemptions, stats.Steps).CompareTo((best.Value.Info.Stats.Preemptions, best.Value.Info.Stats.Steps)) < 0)
                {
                    best = (new MinimalSchedule("minimal.trace", bound, stats, iterations) { SearchedBelow = bound }, search.Trace);
                }

                if (stats.Preemptions <= bound)
                {
                    // No bound below this one found the failure: fewer preemptions were searched for and not found.
                    break;
                }
            }
        }

        return best is { } b ? (b.Info with { Iterations = iterations }, b.Trace) : null;
    }
}
