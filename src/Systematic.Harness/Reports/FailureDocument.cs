using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness.Reports;

/// <summary>The contents of <c>failure.json</c>: the facts of one failure under a versioned schema.</summary>
internal sealed record FailureDocument
{
    /// <summary>The schema id of this version.</summary>
    public const string CurrentSchema = "systematic.failure/2";

    /// <summary>Gets the schema id.</summary>
    public string Schema { get; init; } = CurrentSchema;

    /// <summary>Gets the test's full name.</summary>
    public required string Test { get; init; }

    /// <summary>Gets the instrumented assembly that ran (what <c>coyote replay</c> takes).</summary>
    public required string Assembly { get; init; }

    /// <summary>Gets the assembly the user named.</summary>
    public required string SourceAssembly { get; init; }

    /// <summary>Gets the failure kind.</summary>
    public required FailureKind Kind { get; init; }

    /// <summary>Gets the declared kind, if any.</summary>
    public FailureKind? Expected { get; init; }

    /// <summary>Gets the diagnosis sentence.</summary>
    public required string Sentence { get; init; }

    /// <summary>Gets the consequences of the root cause.</summary>
    public IReadOnlyList<string> Consequences { get; init; } = [];

    /// <summary>Gets the resources involved, root cause first.</summary>
    public IReadOnlyList<string> Resources { get; init; } = [];

    /// <summary>Gets the wait-for cycle.</summary>
    public IReadOnlyList<WaitLink> Cycle { get; init; } = [];

    /// <summary>Gets who holds what at the failure.</summary>
    public IReadOnlyList<Holding> Holdings { get; init; } = [];

    /// <summary>Gets who waits for what at the failure.</summary>
    public IReadOnlyList<Waiting> Waitings { get; init; } = [];

    /// <summary>Gets the failure message as reported.</summary>
    public required string Message { get; init; }

    /// <summary>Gets the 1-based iteration that failed.</summary>
    public long Iteration { get; init; }

    /// <summary>Gets the seed.</summary>
    public uint Seed { get; init; }

    /// <summary>Gets the strategy.</summary>
    public string Strategy { get; init; } = "portfolio";

    /// <summary>Gets the trace file name, in this folder.</summary>
    public string Trace { get; init; } = "failure.trace";

    /// <summary>Gets the replay commands.</summary>
    public required ReplayCommands Replay { get; init; }

    /// <summary>Gets the uncontrolled calls seen; when any, the trace is not guaranteed to reproduce.</summary>
    public IReadOnlyList<string> Uncontrolled { get; init; } = [];

    /// <summary>Gets whether the trace is expected to reproduce (no uncontrolled concurrency was seen).</summary>
    public bool Reproducible { get; init; } = true;

    /// <summary>Gets the counts of the failing schedule.</summary>
    public ScheduleStats? Schedule { get; init; }

    /// <summary>Gets the shrunk schedule, if one was found.</summary>
    public MinimalSchedule? Minimal { get; init; }

    /// <summary>Gets the commands that replay the shrunk schedule.</summary>
    public ReplayCommands? MinimalReplay { get; init; }

    /// <summary>Gets the iteration at which lock-order prediction first saw a cycle, if it did.</summary>
    public long? PredictedAt { get; init; }

    /// <summary>Gets the recorded iteration.</summary>
    public LogDocument? Log { get; init; }

    /// <summary>Gets the recorded iteration of the minimal schedule, if one was found.</summary>
    public LogDocument? MinimalLog { get; init; }
}

/// <summary>Exact commands that replay a failure.</summary>
/// <param name="Systematic">Systematic's command; for a test only its test runner can run, that test run again with the folder to replay.</param>
/// <param name="Coyote">Stock Coyote's command, or null when stock Coyote cannot run the test (<see cref="NoCoyoteBecause"/> says why).</param>
internal sealed record ReplayCommands(string Systematic, string? Coyote)
{
    /// <summary>Gets why stock Coyote cannot replay the failure, when it cannot.</summary>
    public string? NoCoyoteBecause { get; init; }
}

/// <summary>A recorded iteration as stored in <c>failure.json</c>.</summary>
internal sealed record LogDocument(IReadOnlyList<TaskInfo> Tasks, IReadOnlyList<ResourceInfo> Resources, IReadOnlyList<RecordedEvent> Events, int Dropped)
{
    /// <summary>Gets the failure Systematic's own checks found, if they did.</summary>
    public DetectedFailure? Detected { get; init; }

    /// <summary>Converts a live log.</summary>
    public static LogDocument From(IterationLog log) => new(log.Tasks, log.Resources, log.Events, log.Dropped) { Detected = log.Detected, UncontrolledCalls = log.UncontrolledCalls };

    /// <summary>Gets the calls into code Coyote does not control that the iteration made.</summary>
    public IReadOnlyList<UncontrolledCall> UncontrolledCalls { get; init; } = [];

    /// <summary>Rebuilds the log.</summary>
    public IterationLog ToLog(string test, string? failure) => IterationLog.Create(test, this.Tasks, this.Resources, this.Events, failure, this.Detected, this.UncontrolledCalls);
}
