namespace Systematic;

/// <summary>How <see cref="Explore"/> (or a <see cref="SystematicFactAttribute"/> test) explores.</summary>
public sealed record ExploreOptions
{
    /// <summary>The iterations explored when none are given.</summary>
    public const int DefaultIterations = 1000;

    /// <summary>Gets the iterations (schedules) to explore; with <see cref="PreemptionBound"/>, the most schedules to run.</summary>
    public int Iterations { get; init; } = DefaultIterations;

    /// <summary>Gets the random seed, or -1 for a fresh one.</summary>
    public long Seed { get; init; } = -1;

    /// <summary>Gets Coyote's exploration strategy, or null for the portfolio.</summary>
    public string? Strategy { get; init; }

    /// <summary>Gets the most scheduling steps per iteration, or 0 for Coyote's default.</summary>
    public int MaxSteps { get; init; }

    /// <summary>Gets the preemption bound, or -1 for a random search.</summary>
    public int PreemptionBound { get; init; } = -1;

    /// <summary>Gets the failure a test documents (it must be found), or <see cref="FailureKind.None"/> when the test must pass.</summary>
    public FailureKind Expected { get; init; }

    /// <summary>Gets a failure folder (or a trace in one) to replay instead of exploring.</summary>
    public string? Replay { get; init; }

    /// <summary>Gets where failure folders are written, or null for what the build step recorded (the solution's <c>coyote-reports</c>).</summary>
    public string? ReportsDirectory { get; init; }
}
