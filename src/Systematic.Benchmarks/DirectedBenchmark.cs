using System.Globalization;
using System.Text;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Benchmarks;

/// <summary>
/// Directed confirmation against search: iterations and time to a confirmed lock-order deadlock for every catalog
/// variant declared a lock-order deadlock and five dining philosophers, over widely spaced seeds. Three arms, run in turn
/// for each seed: the default <c>systematic test</c> (portfolio, prediction on: the schedule the first predicted cycle
/// implies is built), the same without prediction, and random search without prediction.
/// </summary>
internal static class DirectedBenchmark
{
    /// <summary>The iteration budget of each run. The default value is 1,000, as <c>systematic test</c>'s.</summary>
    public const uint Iterations = 1000;

    private static readonly (string Name, string? Strategy, bool Predict)[] Arms =
    [
        ("directed (default: portfolio, prediction on)", null, true),
        ("portfolio, `--no-predict`", null, false),
        ("random, `--no-predict`", "random", false),
    ];

    public static (string Markdown, object Json) Run(PreparedAssembly catalog, PreparedAssembly? userCode, string work, int seeds)
    {
        var tests = catalog.Tests.Where(t => t.Expected == FailureKind.LockOrderDeadlock).ToList();
        if (userCode?.Tests.FirstOrDefault(t => t.ShortName == "DiningPhilosophersBuggy") is { } diners)
        {
            tests.Add(diners);
        }

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"The catalog's lock-order cycles (every variant declared `LockOrderDeadlock`: {string.Join(", ", tests.Where(t => t.Expected is not null).Select(t => t.ShortName))}) and five dining philosophers (`DiningPhilosophersBuggy` in `tests/Samples.UserCode`, {(tests.Any(t => t.ShortName == "DiningPhilosophersBuggy") ? "prepared like a user's assembly" : "NOT FOUND: build tests/Samples.UserCode")}). {seeds} seeds (1 + k × 1,000,003), {Iterations:N0}-iteration budget, minimization off (the time is to the confirmed deadlock, as the test's `Elapsed`); for each seed the three arms run in turn, after one unmeasured run of each arm per test to warm up.").AppendLine();
        md.AppendLine("- **directed**: the default `systematic test` (portfolio, prediction on): the first predicted cycle's schedule is built and run.");
        md.AppendLine("- **portfolio, `--no-predict`**: Coyote's default portfolio alone.");
        md.AppendLine("- **random, `--no-predict`**: `-s random` alone: random search.").AppendLine();
        md.AppendLine("Iterations and milliseconds to the first `LockOrderDeadlock`, over the seeds that found it (nearest-rank median and p90).").AppendLine();
        md.AppendLine("| test | arm | found | iterations median / p90 / max | ms median / p90 / max |").AppendLine("|---|---|---|---|---|");
        var rows = new List<object>();
        foreach (var test in tests)
        {
            foreach (var arm in Arms)
            {
                Once(test, arm, 1, work);
            }

            var results = Arms.Select(_ => new List<(long Iterations, double Ms)>()).ToArray();
            for (var k = 0; k < seeds; k++)
            {
                var seed = (uint)(1 + (k * 1_000_003L));
                for (var a = 0; a < Arms.Length; a++)
                {
                    if (Once(test, Arms[a], seed, work) is { } found)
                    {
                        results[a].Add(found);
                    }
                }
            }

            for (var a = 0; a < Arms.Length; a++)
            {
                var iterations = results[a].Select(r => (double)r.Iterations).Order().ToList();
                var ms = results[a].Select(r => r.Ms).Order().ToList();
                md.AppendLine(CultureInfo.InvariantCulture, $"| {test.ShortName} | {Arms[a].Name} | {results[a].Count}/{seeds} | {Stats(iterations, "0")} | {Stats(ms, "0")} |");
                rows.Add(new { test = test.ShortName, arm = Arms[a].Name, found = results[a].Count, seeds, iterations = results[a].Select(r => r.Iterations), ms = results[a].Select(r => r.Ms) });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {test.ShortName} / {Arms[a].Name}: {results[a].Count}/{seeds}, iterations {Stats(iterations, "0")}, ms {Stats(ms, "0")}"));
            }
        }

        md.AppendLine();
        return (md.ToString(), rows);
    }

    /// <summary>One run of <paramref name="test"/> in <paramref name="arm"/>: the iterations and milliseconds to a confirmed <c>LockOrderDeadlock</c>, or null when it found none.</summary>
    private static (long Iterations, double Ms)? Once(TestCase test, (string Name, string? Strategy, bool Predict) arm, uint seed, string work)
    {
        var dir = Path.Combine(work, "directed", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var outcome = new TestRunner(new ExplorationOptions { Iterations = Iterations, Seed = seed, Strategy = arm.Strategy, Predict = arm.Predict, Minimize = false }).Run(test, dir);
        return outcome.Kind == FailureKind.LockOrderDeadlock && outcome.FirstBugIteration is { } first ? (first, outcome.Elapsed.TotalMilliseconds) : null;
    }

    private static string Stats(List<double> sorted, string format) =>
        sorted.Count == 0 ? "none" : string.Join(" / ", new[] { Percentile(sorted, 0.5), Percentile(sorted, 0.9), sorted[^1] }.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
