using System.Text.Json;
using System.Text.Json.Serialization;

namespace Systematic.Harness.Reports;

/// <summary>The contents of <c>summary.json</c>.</summary>
internal sealed record SummaryDocument
{
    /// <summary>The schema id of this version.</summary>
    public const string CurrentSchema = "systematic.summary/1";

    /// <summary>The file name in a run folder.</summary>
    public const string FileName = "summary.json";

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
        var dir = RunFolder.Resolve(run, FileName);
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
        {
            throw new HarnessException($"No {FileName} in {run} (nor in its latest run): run `systematic test` first.");
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

    /// <summary>Writes <c>summary.json</c> into <paramref name="runDir"/>, replacing any older one at once.</summary>
    internal void Write(string runDir) => AtomicFile.Write(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, Json.Options));

    /// <summary>Gets the exit code a run of <paramref name="tests"/> deserves: interrupted, an error, an unexpected bug not accepted, an expectation not met, or success.</summary>
    public static Harness.ExitCode Verdict(IEnumerable<SummaryTest> tests, bool interrupted)
    {
        var all = tests.ToList();
        return interrupted ? Harness.ExitCode.Interrupted
            : all.Any(t => t.Outcome == Outcome.Error) ? Harness.ExitCode.InternalError
            : all.Any(t => t.Outcome == Outcome.Bug && t.Expected is null && !t.Accepted && t.Kind != FailureKind.Uncontrolled) ? Harness.ExitCode.BugFound
            : all.Any(t => t.Kind == FailureKind.Uncontrolled && !t.ExpectationMet && !t.Accepted) ? Harness.ExitCode.Untestable
            : all.Any(t => !t.ExpectationMet) ? Harness.ExitCode.ExpectationNotMet
            : Harness.ExitCode.Success;
    }
}

/// <summary>The options of a run, as recorded.</summary>
internal sealed record SummaryOptions(uint Iterations, string Strategy, uint? StrategyBound, uint? Seed, uint? MaxSteps, double? TimeoutSeconds, string? Filter)
{
    /// <summary>Records <paramref name="options"/>.</summary>
    public static SummaryOptions From(RunOptions options) =>
        new(options.Exploration.Iterations, options.Exploration.Strategy ?? StrategyTable.Portfolio, options.Exploration.StrategyBound, options.Exploration.Seed, options.Exploration.MaxSteps, options.Exploration.Timeout?.TotalSeconds, options.Filter);
}

/// <summary>An assembly of a run: as named, as run, what preparing it did, and every assembly it reaches with what preparation did with it.</summary>
internal sealed record SummaryAssembly(string Source, string Instrumented, IReadOnlyList<string> Notes, IReadOnlyList<Preparation.AssemblyDecision>? Closure = null)
{
    /// <summary>Records a prepared assembly.</summary>
    public static SummaryAssembly From(PreparedAssembly assembly) =>
        new(assembly.SourcePath, assembly.Path, assembly.Notes, assembly.Closure.Count == 0 ? null : assembly.Closure);
}

/// <summary>One test's line of <c>summary.json</c>: the outcome is written "passed", "bug" or "error"; <see cref="Expected"/> is null, written "pass", when the test must pass.</summary>
internal sealed record SummaryTest(
    string Test,
    [property: JsonConverter(typeof(OutcomeJsonConverter))] Outcome Outcome,
    bool Accepted,
    FailureKind? Kind,
    [property: JsonConverter(typeof(ExpectedJsonConverter)), JsonIgnore(Condition = JsonIgnoreCondition.Never)] FailureKind? Expected,
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
        o.Outcome,
        o.Accepted,
        o.Kind,
        o.Expected,
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
