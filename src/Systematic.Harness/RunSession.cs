using System.Diagnostics;
using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>Runs tests of one or more assemblies into a fresh run folder and writes its summary.</summary>
internal sealed class RunSession(RunOptions options)
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

    /// <summary>How often a running session rewrites its summary.json.</summary>
    private static readonly TimeSpan ProgressSummaryInterval = TimeSpan.FromSeconds(2);

    /// <summary>Runs <paramref name="tests"/>, reporting each outcome as it comes, and writes the summary.</summary>
    public RunResult Run(IReadOnlyList<TestCase> tests, IReadOnlyList<PreparedAssembly> assemblies, Action<ExplorationProgress>? progress, Action<TestOutcome, int, int>? done, CancellationToken cancellation)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var (runId, runDir) = RunFolder.Create(options.OutDir);
        var split = this.PartsPerTest(tests.Count);
        var items = Enumerable.Range(0, tests.Count).SelectMany(t => Enumerable.Range(0, split).Select(k => (Test: t, Part: k))).ToList();
        var baseSeed = options.Exploration.Seed ?? (uint)Random.Shared.Next(1, int.MaxValue);
        var collector = new Collector(tests.Count, split, options.Baseline, done, sofar => this.WriteSummary(runId, runDir, started, sofar, assemblies, interrupted: false, finished: false, reports: false));
        using var executor = this.CreateExecutor(items.Count, progress);

        this.ForEachPart(items.Count, item =>
        {
            var (index, part) = items[item];
            if (cancellation.IsCancellationRequested)
            {
                return;
            }

            var partOptions = this.PartOptions(part, split, baseSeed);
            var outcome = Explore(tests[index], () => executor.Run(tests[index], partOptions, runDir, cancellation));
            collector.Add(index, part, outcome);
        });

        var result = new RunResult(runId, runDir, collector.Outcomes, assemblies, cancellation.IsCancellationRequested, clock.Elapsed);
        this.WriteSummary(runId, runDir, started, result.Outcomes, assemblies, result.Interrupted, finished: true, result.ExitCode);
        RunFolder.PointLatest(options.OutDir, runId);
        return result;
    }

    /// <summary>With more workers than tests, a test's iterations are split between workers with widely spaced seeds.</summary>
    private int PartsPerTest(int tests) => options.Isolated && options.Workers > tests ? options.Workers / tests : 1;

    /// <summary>The options of one part of a split test: its own seed and its share of the iterations.</summary>
    private ExplorationOptions PartOptions(int part, int split, uint baseSeed) => split == 1 ? options.Exploration : options.Exploration with
    {
        Seed = unchecked(baseSeed + ((uint)part * SeedSpacing.Part)),
        Iterations = (uint)Math.Ceiling(options.Exploration.Iterations / (double)split),
    };

    /// <summary>
    /// How the session's tests are explored: in worker processes for an isolated run (each gets a CPU of its own for its
    /// life, see <see cref="CpuAffinity"/>, and explores test after test), else in this process.
    /// </summary>
    private ITestExecutor CreateExecutor(int parts, Action<ExplorationProgress>? progress) => options.Isolated
        ? new WorkerExecutor(new WorkerPool(options.Pin ? CpuAffinity.Plan(Math.Min(options.Workers, parts), CpuAffinity.Allowed()) : null), progress, options.ReplayTool)
        : new InProcessExecutor(progress, options.ReplayTool);

    /// <summary>Runs <paramref name="run"/> for every part: in parallel over the workers, or one after the other.</summary>
    private void ForEachPart(int parts, Action<int> run)
    {
        if (options.Isolated && options.Workers > 1)
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = options.Workers }, run);
            return;
        }

        for (var i = 0; i < parts; i++)
        {
            run(i);
        }
    }

    /// <summary>Explores one part of <paramref name="test"/>; a failure to run it is its outcome (<see cref="Outcome.Error"/>), not the run's.</summary>
    private static TestOutcome Explore(TestCase test, Func<TestOutcome> explore)
    {
        try
        {
            return explore();
        }
        catch (HarnessException e)
        {
            return new TestOutcome { Test = test.Name, Outcome = Outcome.Error, Expected = test.Expected, Error = e.Message };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new TestOutcome { Test = test.Name, Outcome = Outcome.Error, Expected = test.Expected, Error = $"{e.GetType().Name}: {e.Message}" };
        }
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

    private void WriteSummary(string runId, string runDir, DateTimeOffset started, IReadOnlyList<TestOutcome> outcomes, IReadOnlyList<PreparedAssembly> assemblies, bool interrupted, bool finished, ExitCode? exitCode = null, bool reports = true)
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

    /// <summary>
    /// Gathers the parts of each test as they finish (from any thread): when a test's last part is in, its parts are
    /// merged into its outcome, the baseline is applied and <c>done</c> is told. While the run goes on, summary.json is
    /// kept current at most every <see cref="ProgressSummaryInterval"/> (a run killed outright still leaves one); the
    /// run's reports are written once, at the end: cost linear in the number of tests.
    /// </summary>
    private sealed class Collector(int tests, int split, Baseline? baseline, Action<TestOutcome, int, int>? done, Action<List<TestOutcome>> writeProgress)
    {
        private readonly Lock gate = new();
        private readonly TestOutcome?[] outcomes = new TestOutcome?[tests];
        private readonly TestOutcome?[,] parts = new TestOutcome?[tests, split];
        private readonly int[] remaining = Enumerable.Repeat(split, tests).ToArray();
        private readonly Stopwatch progressWritten = Stopwatch.StartNew();
        private int finished;

        /// <summary>Gets the outcomes of the tests finished so far, in test order.</summary>
        public List<TestOutcome> Outcomes
        {
            get
            {
                lock (this.gate)
                {
                    return this.outcomes.OfType<TestOutcome>().ToList();
                }
            }
        }

        public void Add(int index, int part, TestOutcome outcome)
        {
            lock (this.gate)
            {
                this.parts[index, part] = outcome;
                if (--this.remaining[index] > 0)
                {
                    return;
                }

                var merged = this.Merge(index);
                this.outcomes[index] = merged;
                this.finished++;
                done?.Invoke(merged, this.finished, tests);
                if (this.progressWritten.Elapsed >= ProgressSummaryInterval)
                {
                    writeProgress(this.outcomes.OfType<TestOutcome>().ToList());
                    this.progressWritten.Restart();
                }
            }
        }

        private TestOutcome Merge(int index)
        {
            var all = Enumerable.Range(0, split).Select(k => this.parts[index, k]!).ToList();
            var merged = OutcomeMerge.Of(all);

            // One report per test: the other parts' failure folders are duplicates of the same search. The one kept
            // takes the test's own folder name back when another part had it.
            foreach (var other in all.Where(p => p.ReportDir is not null && p.ReportDir != merged.ReportDir))
            {
                Directory.Delete(other.ReportDir!, recursive: true);
            }

            if (merged.ReportDir is { } kept && all.Count(p => p.ReportDir is not null) > 1)
            {
                merged = merged with { ReportDir = RunFolder.Reclaim(kept) };
            }

            return merged with { Accepted = merged.Outcome == Outcome.Bug && (baseline?.Accepts(merged.Test, merged.Kind) ?? false) };
        }
    }
}
