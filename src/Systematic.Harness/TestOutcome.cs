using System.Globalization;
using Systematic.Analysis;

namespace Systematic.Harness;

/// <summary>How a test's exploration ended.</summary>
internal enum Outcome
{
    /// <summary>No bug in any iteration.</summary>
    Passed,

    /// <summary>A bug was found.</summary>
    Bug,

    /// <summary>The test could not be run (harness or load error).</summary>
    Error,
}

/// <summary>The result of exploring one test.</summary>
internal sealed record TestOutcome
{
    /// <summary>Gets the test's full name.</summary>
    public required string Test { get; init; }

    /// <summary>Gets how the exploration ended.</summary>
    public required Outcome Outcome { get; init; }

    /// <summary>Gets the failure kind found, if any.</summary>
    public FailureKind? Kind { get; init; }

    /// <summary>Gets the kind the test declares it must produce, or null when it must pass.</summary>
    public FailureKind? Expected { get; init; }

    /// <summary>Gets the iterations explored.</summary>
    public long Iterations { get; init; }

    /// <summary>Gets the 1-based iteration of the first bug.</summary>
    public long? FirstBugIteration { get; init; }

    /// <summary>Gets the seed used.</summary>
    public uint Seed { get; init; }

    /// <summary>Gets the strategy used.</summary>
    public string Strategy { get; init; } = "portfolio";

    /// <summary>Gets the wall time.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Gets the failure folder, if a bug was found.</summary>
    public string? ReportDir { get; init; }

    /// <summary>Gets the diagnosis of the bug, if any.</summary>
    public Diagnosis? Diagnosis { get; init; }

    /// <summary>Gets the calls Coyote saw but does not control.</summary>
    public IReadOnlyList<string> Uncontrolled { get; init; } = [];

    /// <summary>Gets the error that kept the test from running, if any.</summary>
    public string? Error { get; init; }

    /// <summary>Gets the 1-based iteration at which lock-order prediction first saw a potential deadlock, if it did.</summary>
    public long? PredictedAt { get; init; }

    /// <summary>Gets the shrunk schedule of the failure, if minimization found one.</summary>
    public MinimalSchedule? Minimal { get; init; }

    /// <summary>Gets the counts of the original failing schedule.</summary>
    public Analysis.ScheduleStats? Schedule { get; init; }

    /// <summary>Gets what a bounded search (<c>--preemption-bound</c>) covered, or null after a random search.</summary>
    public BoundedCoverage? Bounded { get; init; }

    /// <summary>Gets the worker processes that explored the test (seed, iterations, CPUs), empty when it ran in process.</summary>
    public IReadOnlyList<WorkerRun> Workers { get; init; } = [];

    /// <summary>Gets whether the bug found is an accepted finding of the baseline.</summary>
    public bool Accepted { get; init; }

    /// <summary>Gets whether the outcome is the declared one: caught with the declared kind, or passed when no kind is declared (or the bug is accepted by the baseline).</summary>
    public bool ExpectationMet => this.Expected is { } expected
        ? this.Outcome == Outcome.Bug && this.Kind == expected
        : this.Outcome == Outcome.Passed || (this.Accepted && this.Outcome == Outcome.Bug);
}

/// <summary>One worker process's share of a test: its seed, the iterations it ran, its wall time and the CPUs its threads were allowed on at the end.</summary>
internal sealed record WorkerRun(uint Seed, long Iterations, TimeSpan Elapsed, IReadOnlyList<int> Cpus)
{
    /// <summary>Gets the worker's process id (one worker explores many tests).</summary>
    public int Process { get; init; }
}

/// <summary>What a bounded search ran: every schedule with fewer than <see cref="CompleteBelow"/> preemptions, and how many of each count.</summary>
/// <param name="Bound">The preemption bound asked for.</param>
/// <param name="Schedules">The schedules run.</param>
/// <param name="CompleteBelow">Every schedule with fewer preemptions than this was run (<see cref="Bound"/> + 1 when all within the bound were).</param>
/// <param name="ByPreemptions">The schedules run with 0, 1, ... <see cref="Bound"/> preemptions.</param>
/// <param name="Diverged">Schedules that did not follow their prefix (something ran uncontrolled): the statement is then not exact.</param>
internal sealed record BoundedCoverage(int Bound, long Schedules, int CompleteBelow, IReadOnlyList<long> ByPreemptions, long Diverged)
{
    /// <summary>Gets whether every schedule within the bound was run.</summary>
    public bool Exhausted => this.CompleteBelow > this.Bound;

    /// <summary>Gets what a passing search says, in one sentence: "no bug in any of 130 schedules with at most 2 preemptions".</summary>
    public string Statement
    {
        get
        {
            var covered = this.ByPreemptions.Take(this.CompleteBelow).Sum();
            var text = this.Exhausted
                ? string.Create(CultureInfo.InvariantCulture, $"no bug in any of {this.Schedules:N0} schedules with at most {Preemptions(this.Bound)}")
                : this.CompleteBelow == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"no bug in {this.Schedules:N0} schedules; the budget ran out before every schedule with no preemption was run")
                    : string.Create(CultureInfo.InvariantCulture, $"no bug in any of {covered:N0} schedules with at most {Preemptions(this.CompleteBelow - 1)}, nor in {this.Schedules - covered:N0} of those with {this.CompleteBelow} (budget reached)");
            return this.Diverged > 0
                ? text + string.Create(CultureInfo.InvariantCulture, $"; not exact: {this.Diverged:N0} schedules did not replay their prefix (something ran uncontrolled)")
                : text;
        }
    }

    /// <summary>"1 preemption", "2 preemptions".</summary>
    internal static string Preemptions(int count) => count == 1 ? "1 preemption" : $"{count} preemptions";
}
