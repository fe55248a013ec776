using System.Diagnostics;
using System.Globalization;
using System.Text;
using Systematic.Harness.Reports;
using Systematic.Harness;
using Systematic.Harness.Exploration;
using Systematic.Recording;

namespace Systematic.Benchmarks;

/// <summary>
/// The bounded search (<c>--preemption-bound</c>) on each fixed variant of the catalog: at bounds 0 to 3, the schedules
/// run per preemption count, whether every schedule within the bound was run before the budget, and the time.
/// </summary>
internal static class BoundedBenchmark
{
    /// <summary>The most schedules run per variant and bound. The default value is 20,000.</summary>
    public const long DefaultBudget = 20_000;

    /// <summary>The bounds measured: 0 to this.</summary>
    public const int MaxBound = 3;

    public static (string Markdown, object Json) Run(PreparedAssembly catalog, long budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Each fixed variant searched at bounds 0 to {MaxBound}, one search per bound (`BoundedSearch` through `BoundedExploration`, as `systematic test --preemption-bound K` runs it), with a budget of {budget:N0} schedules per variant and bound. Columns 0 to {MaxBound}: schedules run with exactly that many preemptions; exhausted: every schedule within the bound was run; time: wall time of the search (to exhaust it, or to the budget).").AppendLine();
        md.AppendLine("| fixed variant | bound | 0 | 1 | 2 | 3 | total | exhausted | time (s) |").AppendLine("|---|---|---|---|---|---|---|---|---|");
        var rows = new List<object>();
        var budgetHit = new List<string>();
        var failures = new List<string>();
        foreach (var test in catalog.Tests.Where(t => t.Expected is null))
        {
            for (var bound = 0; bound <= MaxBound; bound++)
            {
                var search = new BoundedSearch(bound) { Budget = budget, Mark = () => Recorder.Position };
                var clock = Stopwatch.StartNew();
                var found = BoundedExploration.Run(test, new ExplorationOptions { Seed = 0 }, search);
                var seconds = clock.Elapsed.TotalSeconds;
                var counts = string.Join(" | ", Enumerable.Range(0, MaxBound + 1).Select(k => k > bound ? "" : Count(search.SchedulesByPreemptions[k], partial: !search.Exhausted && k == search.CompleteBelow)));
                var exhausted = search.Exhausted ? "yes" : found is null ? $"no (budget; complete below {BoundedCoverage.Preemptions(search.CompleteBelow)})" : "no (bug)";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {test.ShortName} | {bound} | {counts} | {search.Schedules:N0} | {exhausted} | {seconds:0.0} |");
                rows.Add(new { test = test.ShortName, bound, byPreemptions = search.SchedulesByPreemptions, schedules = search.Schedules, search.Exhausted, completeBelow = search.CompleteBelow, diverged = search.Diverged, seconds, bug = found?.Diagnosis.Kind.ToString() });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {test.ShortName} bound {bound}: {search.Schedules} schedules, exhausted {search.Exhausted}, {seconds:0.0} s"));
                if (search.BudgetReached)
                {
                    budgetHit.Add($"{test.ShortName} (bound {bound})");
                }

                if (found is not null)
                {
                    failures.Add($"{test.ShortName} at bound {bound}: {found.Diagnosis.Kind}");
                }

                if (search.Diverged > 0)
                {
                    failures.Add($"{test.ShortName} at bound {bound}: {search.Diverged:N0} schedules did not follow their prefix");
                }
            }
        }

        md.AppendLine();
        md.AppendLine(budgetHit.Count == 0
            ? "No search hit its budget."
            : $"Hit the budget ({budget:N0} schedules; the count with the most preemptions it reached marked +, as it is partial): {string.Join(", ", budgetHit)}.");
        md.AppendLine().AppendLine(failures.Count == 0
            ? "No fixed variant failed, and every schedule followed its prefix (the counts are exact)."
            : $"Not clean: {string.Join("; ", failures)}.").AppendLine();
        return (md.ToString(), new { budget, rows });
    }

    private static string Count(long count, bool partial) => count.ToString("N0", CultureInfo.InvariantCulture) + (partial ? "+" : "");
}
