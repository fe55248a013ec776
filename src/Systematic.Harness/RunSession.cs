using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Systematic.Harness;

/// <summary>The result of a whole <c>systematic test</c> run.</summary>
public sealed record RunResult(string RunId, string RunDir, IReadOnlyList<TestOutcome> Outcomes, IReadOnlyList<PreparedAssembly> Assemblies, bool Interrupted, TimeSpan Elapsed)
{
    /// <summary>Gets the exit code the run deserves.</summary>
    public ExitCode ExitCode => SummaryDocument.Verdict(this.Outcomes.Select(o => SummaryTest.From(o, this.RunDir)), this.Interrupted);
}

/// <summary>Runs tests of one or more assemblies into a fresh run folder and writes its summary.</summary>
public sealed class RunSession(RunOptions options)
{
    /// <summary>Gets the path of the built-in catalog assembly, shipped next to the harness.</summary>
    public static string CatalogPath => Path.Combine(AppContext.BaseDirectory, "Systematic.Catalog.dll");

    /// <summary>Prepares the assemblies (the catalog when none is given) and selects tests by the filter.</summary>
    public IReadOnlyList<TestCase> Select(IReadOnlyList<string> assemblies, out IReadOnlyList<PreparedAssembly> prepared)
    {
        options.Validate();
        EnsureWritable(options.OutDir);
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
        var (runId, runDir) = CreateRunFolder(options.OutDir);
        var runner = new TestRunner(options, progress);
        var outcomes = new TestOutcome?[tests.Count];
        var finished = 0;
        var gate = new object();
        var failures = new Dictionary<string, FailureDocument>(StringComparer.Ordinal);
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

                var merged = Merge(Enumerable.Range(0, split).Select(k => parts[index, k]!).ToList());
                merged = merged with { Accepted = merged.Outcome == Outcome.Bug && (options.Baseline?.Accepts(merged.Test, merged.Kind) ?? false) };
                outcomes[index] = merged;
                finished++;
                done?.Invoke(merged, finished, tests.Count);

                // While the run goes on, summary.json is kept current at most every few seconds (a run killed outright
                // still leaves one); the run's reports are written once, at the end: cost linear in the number of tests.
                if (progressWritten.Elapsed >= ProgressSummaryInterval)
                {
                    WriteSummary(runId, runDir, options, started, outcomes.OfType<TestOutcome>().ToList(), assemblies, failures, interrupted: false, finished: false, reports: false);
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
        WriteSummary(runId, runDir, options, started, result.Outcomes, assemblies, failures, result.Interrupted, finished: true, result.ExitCode);
        PointLatest(options.OutDir, runId);
        return result;
    }

    /// <summary>Merges the outcomes of one test's workers: the first worker's bug (by worker order) wins, iterations add up.</summary>
    internal static TestOutcome Merge(IReadOnlyList<TestOutcome> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var primary = parts.FirstOrDefault(p => p.Outcome == Outcome.Error) ?? parts.FirstOrDefault(p => p.Outcome == Outcome.Bug) ?? parts[0];

        // One report per test: the other workers' failure folders are duplicates of the same search.
        foreach (var other in parts.Where(p => !ReferenceEquals(p, primary) && p.ReportDir is not null && p.ReportDir != primary.ReportDir))
        {
            Directory.Delete(other.ReportDir!, recursive: true);
        }

        return primary with
        {
            Iterations = parts.Sum(p => p.Iterations),
            Elapsed = parts.Max(p => p.Elapsed),
            Workers = parts.SelectMany(p => p.Workers).ToList(),
            Uncontrolled = parts.SelectMany(p => p.Uncontrolled).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
        };
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

    /// <summary>Fails with the folder's full path unless reports can be written there.</summary>
    internal static void EnsureWritable(string outDir)
    {
        try
        {
            Directory.CreateDirectory(outDir);
            var probe = Path.Combine(outDir, $".write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new HarnessException($"Cannot write reports to {Path.GetFullPath(outDir)}: {e.Message}", e);
        }
    }

    internal static (string Id, string Dir) CreateRunFolder(string outDir)
    {
        EnsureWritable(outDir);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var id = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}";
            var dir = Path.Combine(outDir, id);
            if (!Directory.Exists(dir))
            {
                EnsureWritable(dir);
                return (id, dir);
            }
        }

        throw new HarnessException($"Could not create a fresh run folder in {outDir}.");
    }

    internal static void PointLatest(string outDir, string runId)
    {
        var link = Path.Combine(outDir, "latest");
        try
        {
            if (Directory.Exists(link) || File.Exists(link))
            {
                var info = new FileInfo(link);
                if (info.LinkTarget is not null || File.Exists(link))
                {
                    File.Delete(link);
                }
            }

            Directory.CreateSymbolicLink(link, runId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            AtomicFile.Write(Path.Combine(outDir, "latest.txt"), runId + Environment.NewLine);
        }
    }

    /// <summary>How often a running session rewrites its summary.json.</summary>
    private static readonly TimeSpan ProgressSummaryInterval = TimeSpan.FromSeconds(2);

    private static void WriteSummary(string runId, string runDir, RunOptions options, DateTimeOffset started, IReadOnlyList<TestOutcome> outcomes, IReadOnlyList<PreparedAssembly> assemblies, Dictionary<string, FailureDocument> failures, bool interrupted, bool finished, ExitCode? exitCode = null, bool reports = true)
    {
        var summary = new SummaryDocument
        {
            Run = runId,
            Started = started,
            Finished = finished ? DateTimeOffset.UtcNow : null,
            Interrupted = interrupted,
            ExitCode = exitCode,
            Options = new SummaryOptions(options.Iterations, options.Strategy ?? "portfolio", options.StrategyBound, options.Seed, options.MaxSteps, options.Timeout?.TotalSeconds, options.Filter),
            Assemblies = assemblies.Select(a => new SummaryAssembly(a.SourcePath, a.Path, a.Notes, a.Closure.Count == 0 ? null : a.Closure)).ToList(),
            Tests = outcomes.Select(o => SummaryTest.From(o, runDir)).ToList(),
        };
        if (reports)
        {
            WriteSummaryFiles(runDir, summary, failures);
        }
        else
        {
            AtomicFile.Write(Path.Combine(runDir, "summary.json"), JsonSerializer.Serialize(summary, Json.Options));
        }
    }

    /// <summary>Writes the run-level report files of <paramref name="summary"/> into <paramref name="runDir"/>.</summary>
    /// <param name="runDir">The run folder.</param>
    /// <param name="summary">The summary.</param>
    /// <param name="failures">Failure folders already read, by path (a folder never changes once written); read ones are added.</param>
    internal static void WriteSummaryFiles(string runDir, SummaryDocument summary, Dictionary<string, FailureDocument>? failures = null)
    {
        AtomicFile.Write(Path.Combine(runDir, "summary.json"), JsonSerializer.Serialize(summary, Json.Options));
        AtomicFile.Write(Path.Combine(runDir, "summary.md"), RenderSummaryMarkdown(summary));
        RunReports.Write(runDir, summary, failures);
    }

    internal static string UniqueFolder(string parent, string name)
    {
        for (var i = 0; ; i++)
        {
            var candidate = Path.Combine(parent, i == 0 ? name : $"{name}-{i + 1}");
            if (!Directory.Exists(candidate))
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
        }
    }

    /// <summary>Renders <c>summary.md</c>.</summary>
    public static string RenderSummaryMarkdown(SummaryDocument summary)
    {
        var md = new StringBuilder();
        md.Append("# Systematic run ").AppendLine(summary.Run).AppendLine();
        var met = summary.Tests.Count(t => t.ExpectationMet);
        md.Append(CultureInfo.InvariantCulture, $"{met} of {summary.Tests.Count} tests as expected");
        md.AppendLine(summary.Interrupted ? " (interrupted)." : ".").AppendLine();
        md.AppendLine("| test | outcome | kind | expected | first bug at | iterations | time (s) | report |").AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var t in summary.Tests)
        {
            md.Append("| ").Append(Markdown.Code(t.Test)).Append(" | ").Append(t.ExpectationMet ? "✅ " : "❌ ").Append(t.Outcome).Append(" | ")
              .Append(t.Kind ?? "").Append(" | ").Append(t.Expected).Append(" | ").Append(t.FirstBugIteration?.ToString(CultureInfo.InvariantCulture) ?? "")
              .Append(" | ").Append(t.Iterations.ToString(CultureInfo.InvariantCulture)).Append(" | ").Append(t.Seconds.ToString("0.00", CultureInfo.InvariantCulture))
              .Append(" | ").Append(t.ReportDir is null ? "" : $"[report]({Uri.EscapeDataString(t.ReportDir)}/report.md)").AppendLine(" |");
        }

        var diagnosed = summary.Tests.Where(t => t.Diagnosis is not null).ToList();
        if (diagnosed.Count > 0)
        {
            md.AppendLine().AppendLine("## Diagnoses").AppendLine();
            foreach (var t in diagnosed)
            {
                md.Append("- ").Append(Markdown.Code(t.Test)).Append(": ").AppendLine(Markdown.Sentence(t.Diagnosis!));
            }
        }

        return md.ToString();
    }
}

/// <summary>The contents of <c>summary.json</c>.</summary>
public sealed record SummaryDocument
{
    /// <summary>The schema id of this version.</summary>
    public const string CurrentSchema = "systematic.summary/1";

    /// <summary>Gets the schema id.</summary>
    public string Schema { get; init; } = CurrentSchema;

    /// <summary>Gets the run id (its folder name).</summary>
    public required string Run { get; init; }

    /// <summary>Gets when the run started.</summary>
    public DateTimeOffset Started { get; init; }

    /// <summary>Gets when it finished, or null while running.</summary>
    public DateTimeOffset? Finished { get; init; }

    /// <summary>Gets whether it was interrupted.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Gets its exit code, once finished.</summary>
    public ExitCode? ExitCode { get; init; }

    /// <summary>Gets the options.</summary>
    public required SummaryOptions Options { get; init; }

    /// <summary>Gets the assemblies run.</summary>
    public IReadOnlyList<SummaryAssembly> Assemblies { get; init; } = [];

    /// <summary>Gets one entry per test.</summary>
    public IReadOnlyList<SummaryTest> Tests { get; init; } = [];

    /// <summary>
    /// Reads the summary of a run: <paramref name="run"/> is a run folder, or a report folder whose latest run is used
    /// (its <c>latest</c> link, or <c>latest.txt</c> where links cannot be made). Fails with a one-line error when there
    /// is none, it is not valid JSON, or its schema is not this build's.
    /// </summary>
    public static (string Dir, SummaryDocument Summary) Read(string run)
    {
        var latest = Path.Combine(run, "latest.txt");
        var dir = File.Exists(Path.Combine(run, "summary.json")) ? run
            : !Directory.Exists(Path.Combine(run, "latest")) && File.Exists(latest) ? Path.Combine(run, File.ReadAllText(latest).Trim())
            : Path.Combine(run, "latest");
        var path = Path.Combine(dir, "summary.json");
        if (!File.Exists(path))
        {
            throw new HarnessException($"No summary.json in {run} (nor in its latest run): run `systematic test` first.");
        }

        try
        {
            var summary = JsonSerializer.Deserialize<SummaryDocument>(File.ReadAllText(path), Json.Options) ?? throw new HarnessException($"{path} is empty.");
            if (summary.Schema != CurrentSchema)
            {
                throw new HarnessException($"{path} has schema {summary.Schema}; this build reads {CurrentSchema}.");
            }

            return (Path.GetFullPath(dir), summary);
        }
        catch (JsonException e)
        {
            throw new HarnessException($"{path} is not a valid summary: {e.Message}");
        }
    }

    /// <summary>Gets the exit code a run of <paramref name="tests"/> deserves: interrupted, an error, an unexpected bug not accepted, an expectation not met, or success.</summary>
    public static Harness.ExitCode Verdict(IEnumerable<SummaryTest> tests, bool interrupted)
    {
        var all = tests.ToList();
        return interrupted ? Harness.ExitCode.Interrupted
            : all.Any(t => t.Outcome == "error") ? Harness.ExitCode.InternalError
            : all.Any(t => t.Outcome == "bug" && t.Expected == "pass" && !t.Accepted && t.Kind != nameof(FailureKind.Uncontrolled)) ? Harness.ExitCode.BugFound
            : all.Any(t => t.Kind == nameof(FailureKind.Uncontrolled) && !t.ExpectationMet && !t.Accepted) ? Harness.ExitCode.Untestable
            : all.Any(t => !t.ExpectationMet) ? Harness.ExitCode.ExpectationNotMet
            : Harness.ExitCode.Success;
    }
}

/// <summary>The options of a run, as recorded.</summary>
public sealed record SummaryOptions(uint Iterations, string Strategy, uint? StrategyBound, uint? Seed, uint? MaxSteps, double? TimeoutSeconds, string? Filter);

/// <summary>An assembly of a run: as named, as run, what preparing it did, and every assembly it reaches with what preparation did with it.</summary>
public sealed record SummaryAssembly(string Source, string Instrumented, IReadOnlyList<string> Notes, IReadOnlyList<Preparation.AssemblyDecision>? Closure = null);

/// <summary>One test's line of <c>summary.json</c>.</summary>
public sealed record SummaryTest(
    string Test,
    string Outcome,
    bool Accepted,
    string? Kind,
    string Expected,
    bool ExpectationMet,
    long Iterations,
    long? FirstBugIteration,
    uint Seed,
    string Strategy,
    double Seconds,
    string? ReportDir,
    string? Diagnosis,
    IReadOnlyList<string> Uncontrolled,
    string? Error,
    long? PredictedAt = null,
    int? Preemptions = null,
    int? MinimalPreemptions = null,
    IReadOnlyList<WorkerRun>? Workers = null,
    BoundedCoverage? Bounded = null)
{
    /// <summary>Converts an outcome; report folders are relative to the run folder.</summary>
    public static SummaryTest From(TestOutcome o, string runDir) => new(
        o.Test,
        o.Outcome.ToString().ToLowerInvariant(),
        o.Accepted,
        o.Kind?.ToString(),
        o.Expected?.ToString() ?? "pass",
        o.ExpectationMet,
        o.Iterations,
        o.FirstBugIteration,
        o.Seed,
        o.Strategy,
        Math.Round(o.Elapsed.TotalSeconds, 3),
        o.ReportDir is null ? null : Path.GetRelativePath(runDir, o.ReportDir),
        o.Diagnosis?.Sentence,
        o.Uncontrolled,
        o.Error,
        o.PredictedAt,
        o.Schedule?.Preemptions,
        o.Minimal?.Stats.Preemptions,
        o.Workers.Count == 0 ? null : o.Workers,
        o.Bounded);
}
