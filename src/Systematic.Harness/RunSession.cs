namespace Systematic.Harness;

/// <summary>Runs tests of one or more assemblies into a fresh run folder and writes its summary.</summary>
public sealed class RunSession(RunOptions options)
{
    /// <summary>Gets the path of the built-in catalog assembly, shipped next to the harness.</summary>
    public static string CatalogPath => Path.Combine(AppContext.BaseDirectory, "Systematic.Catalog.dll");

    /// <summary>Prepares the assemblies (the catalog when none is given) and selects tests by the filter.</summary>
    public IReadOnlyList<TestCase> Select(IReadOnlyList<string> assemblies, out IReadOnlyList<PreparedAssembly> prepared)
    {
        options.Validate();
        RunFolder.EnsureWritable(options.OutDir);
        var paths = assemblies.Count == 0 ? [CatalogPath] : assemblies;
        var cache = Path.Combine(options.OutDir, ".assemblies");
        prepared = paths.Select(p => PreparedAssembly.Prepare(p, cache, options.Preparation)).ToList();
        var tests = prepared.SelectMany(a => a.Tests).Where(t => Matches(t, options.Filter)).ToList();
        if (tests.Count == 0)
        {
            throw new HarnessException($"No test matches the filter '{options.Filter}'.");
        }

        if (options.Shard is { } shard)
        {
            // Deterministic: the i-th test (in declaration order) belongs to shard (i mod N) + 1.
            tests = tests.Where((_, i) => (i % shard.Count) + 1 == shard.Index).ToList();
        }

        return tests;
    }

    /// <summary>Runs <paramref name="tests"/>, reporting each outcome as it comes, and writes the summary.</summary>
    public RunResult Run(IReadOnlyList<TestCase> tests, IReadOnlyList<PreparedAssembly> assemblies, Action<Progress>? progress, Action<TestOutcome, int, int>? done, CancellationToken cancellation)
    {
        var started = DateTimeOffset.UtcNow;
        var (runId, runDir) = RunFolder.Create(options.OutDir);
        var runner = new TestRunner(options, progress);
        var outcomes = new TestOutcome?[tests.Count];
        var finished = 0;
        var gate = new object();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var progressWritten = System.Diagnostics.Stopwatch.StartNew();

        // With more workers than tests, a test's iterations are split between workers with widely spaced seeds.
        var split = options.Isolated && options.Workers > tests.Count ? options.Workers / tests.Count : 1;
        var baseSeed = options.Seed ?? (uint)Random.Shared.Next(1, int.MaxValue);
        var parts = new TestOutcome?[tests.Count, split];
        var remaining = Enumerable.Repeat(split, tests.Count).ToArray();
        var items = Enumerable.Range(0, tests.Count).SelectMany(t => Enumerable.Range(0, split).Select(k => (Test: t, Part: k))).ToList();

        // Each worker process gets a CPU of its own for its life (see CpuAffinity) and explores test after test.
        var plan = options.Isolated && options.Pin ? CpuAffinity.Plan(Math.Min(options.Workers, items.Count), CpuAffinity.Allowed()) : null;
        using var pool = options.Isolated ? new WorkerPool(plan) : null;

        void RunOne(int item)
        {
            var (index, part) = items[item];
            var test = tests[index];
            if (cancellation.IsCancellationRequested)
            {
                return;
            }

            var partOptions = split == 1 ? options : options with
            {
                Seed = unchecked(baseSeed + ((uint)part * 1_000_003u)),
                Iterations = (uint)Math.Ceiling(options.Iterations / (double)split),
            };
            TestOutcome outcome;
            try
            {
                outcome = pool is not null ? pool.Run(test, partOptions, runDir, progress, cancellation) : runner.Run(test, runDir, cancellation);
            }
            catch (HarnessException e)
            {
                outcome = new TestOutcome { Test = test.Name, Outcome = Outcome.Error, Expected = test.Expected, Error = e.Message };
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                outcome = new TestOutcome { Test = test.Name, Outcome = Outcome.Error, Expected = test.Expected, Error = $"{e.GetType().Name}: {e.Message}" };
            }

            lock (gate)
            {
                parts[index, part] = outcome;
                if (--remaining[index] > 0)
                {
                    return;
                }

                var all = Enumerable.Range(0, split).Select(k => parts[index, k]!).ToList();
                var merged = OutcomeMerge.Of(all);
                DropDuplicateReports(all, merged);
                merged = merged with { Accepted = merged.Outcome == Outcome.Bug && (options.Baseline?.Accepts(merged.Test, merged.Kind) ?? false) };
                outcomes[index] = merged;
                finished++;
                done?.Invoke(merged, finished, tests.Count);

                // While the run goes on, summary.json is kept current at most every few seconds (a run killed outright
                // still leaves one); the run's reports are written once, at the end: cost linear in the number of tests.
                if (progressWritten.Elapsed >= ProgressSummaryInterval)
                {
                    WriteSummary(runId, runDir, options, started, outcomes.OfType<TestOutcome>().ToList(), assemblies, interrupted: false, finished: false, reports: false);
                    progressWritten.Restart();
                }
            }
        }

        if (options.Isolated && options.Workers > 1)
        {
            Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Workers }, RunOne);
        }
        else
        {
            for (var i = 0; i < items.Count; i++)
            {
                RunOne(i);
            }
        }

        var result = new RunResult(runId, runDir, outcomes.OfType<TestOutcome>().ToList(), assemblies, cancellation.IsCancellationRequested, clock.Elapsed);
        WriteSummary(runId, runDir, options, started, result.Outcomes, assemblies, result.Interrupted, finished: true, result.ExitCode);
        RunFolder.PointLatest(options.OutDir, runId);
        return result;
    }

    private static bool Matches(TestCase test, string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return true;
        }

        // Like `dotnet test --filter` on names: '|' separates alternatives, each a substring of the full name.
        return filter.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(part => test.Name.Contains(part.Replace("FullyQualifiedName~", "", StringComparison.Ordinal).Replace("Name~", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>How often a running session rewrites its summary.json.</summary>
    private static readonly TimeSpan ProgressSummaryInterval = TimeSpan.FromSeconds(2);

    private static void WriteSummary(string runId, string runDir, RunOptions options, DateTimeOffset started, IReadOnlyList<TestOutcome> outcomes, IReadOnlyList<PreparedAssembly> assemblies, bool interrupted, bool finished, ExitCode? exitCode = null, bool reports = true)
    {
        var summary = new SummaryDocument
        {
            Run = runId,
            Started = started,
            Finished = finished ? DateTimeOffset.UtcNow : null,
            Interrupted = interrupted,
            ExitCode = exitCode,
            Options = SummaryOptions.From(options),
            Assemblies = assemblies.Select(SummaryAssembly.From).ToList(),
            Tests = outcomes.Select(o => SummaryTest.From(o, runDir)).ToList(),
        };
        if (reports)
        {
            RunReports.Write(runDir, summary);
        }
        else
        {
            summary.Write(runDir);
        }
    }

    /// <summary>One report per test: the other parts' failure folders are duplicates of the same search.</summary>
    private static void DropDuplicateReports(IReadOnlyList<TestOutcome> parts, TestOutcome merged)
    {
        foreach (var part in parts.Where(p => p.ReportDir is not null && p.ReportDir != merged.ReportDir))
        {
            Directory.Delete(part.ReportDir!, recursive: true);
        }
    }
}
