using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness.Exploration;

/// <summary>A failure a bounded search found: its diagnosis, recording, trace and the counts of its schedule (preemptions exact).</summary>
internal sealed record BoundedFailure(Diagnosis Diagnosis, IterationLog? Log, string Trace, string Readable, ScheduleStats Stats);

/// <summary>Runs a test under a <see cref="BoundedSearch"/>: every schedule within the bound, fewest preemptions first, until a failure that <c>accept</c> takes, the budget or the end.</summary>
internal static class BoundedExploration
{
    /// <summary>
    /// Explores <paramref name="test"/> with <paramref name="search"/> until it finds a failure <paramref name="accept"/>
    /// takes (any failure when null), runs out of schedules or budget, or <paramref name="cancellation"/> fires. A failure
    /// not accepted ends Coyote's engine; the search goes on in a new one from where it was.
    /// </summary>
    public static BoundedFailure? Run(TestCase test, ExplorationOptions options, BoundedSearch search, Func<Diagnosis, bool>? accept = null, ISet<string>? uncontrolled = null, CancellationToken cancellation = default)
    {
        while (!search.Exhausted && !search.BudgetReached && !cancellation.IsCancellationRequested)
        {
            var configuration = TestRunner.Configure(options with { Strategy = "random", StrategyBound = null, Iterations = int.MaxValue, Timeout = null }, options.Seed ?? 0)
                .WithFailureOnMaxStepsBoundEnabled(false);
            using var engine = TestRunner.CreateEngine(configuration, test);
            CoyoteStrategy.Install(engine, configuration, search);
            engine.RegisterStartIterationCallBack(_ =>
            {
                if (cancellation.IsCancellationRequested)
                {
                    engine.Stop();
                }
            });
            if (uncontrolled is not null)
            {
                engine.RegisterEndIterationCallBack(_ => TestRunner.NoteUncontrolled(test, uncontrolled));
            }

            engine.Run();
            search.Close();
            if (engine.TestReport.NumOfFoundBugs == 0)
            {
                return null;
            }

            var (diagnosis, log) = TestRunner.Diagnose(test, engine.TestReport.BugReports.First());
            if (accept is null || accept(diagnosis))
            {
                return new BoundedFailure(diagnosis, log, engine.ReproducibleTrace, engine.ReadableTrace, ScheduleStats.Counted(engine.ReproducibleTrace, log, search.Marks));
            }
        }

        return null;
    }
}
