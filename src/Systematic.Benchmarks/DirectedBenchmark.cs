using System.Diagnostics;
using System.Globalization;
using System.Text;
using Systematic.Harness;

namespace Systematic.Benchmarks;

/// <summary>
/// Directed confirmation against random search: iterations and time to a confirmed lock-order deadlock, with
/// prediction (the schedule the first predicted cycle implies is built) and without (Coyote's portfolio alone), over
/// widely spaced seeds.
/// </summary>
internal static class DirectedBenchmark
{
    public static (string Markdown, object Json) Run(PreparedAssembly catalog, PreparedAssembly? userCode, string work, int seeds)
    {
        var tests = new List<TestCase>();
        tests.AddRange(catalog.Tests.Where(t => t.ShortName is "LockOrderBuggy" or "LockCycle3Buggy" or "BoundedBufferBuggy"));
        if (userCode?.Tests.FirstOrDefault(t => t.ShortName == "DiningPhilosophersBuggy") is { } diners)
        {
            tests.Add(diners);
        }

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"{seeds} seeds (1 + k × 1,000,003), 1,000-iteration budget, minimization off. \"directed\": prediction on (the first predicted cycle's schedule is built); \"search\": `--no-predict` (Coyote's portfolio alone). Iterations to the first `LockOrderDeadlock`: median / p90 / worst; found: seeds that found it.").AppendLine();
        md.AppendLine("| test | directed: median / p90 / worst | found | ms median | search: median / p90 / worst | found | ms median |").AppendLine("|---|---|---|---|---|---|---|");
        var rows = new List<object>();
        foreach (var test in tests)
        {
            var directed = Measure(test, predict: true, work, seeds);
            var search = Measure(test, predict: false, work, seeds);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {test.ShortName} | {directed.Summary} | {directed.Found}/{seeds} | {directed.Ms:0} | {search.Summary} | {search.Found}/{seeds} | {search.Ms:0} |");
            rows.Add(new { test = test.ShortName, directed = directed.Iterations, directedMs = directed.Ms, search = search.Iterations, searchMs = search.Ms });
        }

        md.AppendLine();
        return (md.ToString(), rows);
    }

    private static (string Summary, int Found, double Ms, IReadOnlyList<long> Iterations) Measure(TestCase test, bool predict, string work, int seeds)
    {
        var iterations = new List<long>();
        var times = new List<double>();
        for (var k = 0; k < seeds; k++)
        {
            var seed = (uint)(1 + (k * 1_000_003L));
            var dir = Path.Combine(work, "directed", Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            var clock = Stopwatch.StartNew();
            var outcome = new TestRunner(new RunOptions { Iterations = 1000, Seed = seed, Predict = predict, Minimize = false }).Run(test, dir);
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (outcome.Kind == FailureKind.LockOrderDeadlock && outcome.FirstBugIteration is { } first)
            {
                iterations.Add(first);
            }
        }

        var sorted = iterations.Order().ToList();
        var summary = sorted.Count == 0 ? "none" : $"{Percentile(sorted, 0.5)} / {Percentile(sorted, 0.9)} / {sorted[^1]}";
        return (summary, sorted.Count, times.Order().ElementAt(times.Count / 2), sorted);
    }

    private static long Percentile(List<long> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
