using Systematic.Analysis;

namespace Systematic.Harness;

/// <summary>A failing schedule shrunk to its fewest preemptions: the same failure (kind and resources) found with the smallest delay bound.</summary>
/// <param name="Trace">The trace file name, in the failure folder.</param>
/// <param name="DelayBound">The delay bound that sufficed (a bound on the preemptions the scheduler may introduce).</param>
/// <param name="Stats">Steps, switches and preemptions of the minimal schedule.</param>
/// <param name="Iterations">Iterations the search ran.</param>
public sealed record MinimalSchedule(string Trace, uint DelayBound, ScheduleStats Stats, long Iterations);

/// <summary>
/// Searches for a schedule that reproduces a failure with as few preemptions as possible: re-runs the test with Coyote's
/// delay-bounding strategy at bounds 0, 1, 2, 3 and keeps the first bound whose schedules hit the same failure, then the
/// shortest such schedule.
/// </summary>
internal static class Minimizer
{
    private const uint MaxBound = 3;

    public static (MinimalSchedule Info, string Trace)? Minimize(TestCase test, Diagnosis original, RunOptions options, uint seed)
    {
        var budget = Math.Min(options.Iterations, 50u);
        long iterations = 0;
        for (var bound = 0u; bound <= MaxBound; bound++)
        {
            var search = TestRunner.Search(test, TestRunner.Configure(options with { Strategy = "delay-bounding", StrategyBound = bound, Iterations = budget, Timeout = null }, seed + (bound * 7_919u)));
            iterations += search.Iterations;
            if (search.Diagnosis is { } found && found.IsSame(original.Kind, original.Resources))
            {
                return (new MinimalSchedule("minimal.trace", bound, ScheduleStats.Of(search.Trace), iterations), search.Trace);
            }
        }

        return null;
    }
}
