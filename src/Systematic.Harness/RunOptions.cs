namespace Systematic.Harness;

/// <summary>How to explore each test.</summary>
public sealed record RunOptions
{
    /// <summary>Gets the iterations per test. The default is 1,000.</summary>
    public uint Iterations { get; init; } = 1000;

    /// <summary>Gets the strategy name (a Coyote 1.7 strategy), or null for Coyote's default fair portfolio.</summary>
    public string? Strategy { get; init; }

    /// <summary>Gets the strategy bound (priority changes or delays), or null for Coyote's default.</summary>
    public uint? StrategyBound { get; init; }

    /// <summary>
    /// Gets the preemption bound, or null for a random search: when set, every schedule with at most this many
    /// preemptions is run, fewest first, with <see cref="Iterations"/> as the most schedules (a bounded guarantee
    /// instead of a sample).
    /// </summary>
    public uint? PreemptionBound { get; init; }

    /// <summary>The most preemptions <see cref="PreemptionBound"/> takes: the schedules grow with the steps to this power.</summary>
    public const uint MaxPreemptionBound = 6;

    /// <summary>The schedules a bounded search runs at most when <c>--iterations</c> is not given.</summary>
    public const uint DefaultScheduleBudget = 100_000;

    /// <summary>Gets the random seed, or null for a fresh one.</summary>
    public uint? Seed { get; init; }

    /// <summary>Gets the maximum scheduling steps per iteration, or null for Coyote's default (10,000).</summary>
    public uint? MaxSteps { get; init; }

    /// <summary>Gets the wall-clock budget per test, or null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Gets the report folder. The default is <c>coyote-reports</c>.</summary>
    public string OutDir { get; init; } = "coyote-reports";

    /// <summary>Gets the test-name filter, or null for all tests.</summary>
    public string? Filter { get; init; }

    /// <summary>Gets whether each test runs in a worker process of its own, so one that hangs or crashes cannot take the run down. The default is true.</summary>
    public bool Isolated { get; init; } = true;

    /// <summary>Gets how many worker processes run tests at once. The default is the number of processors.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Gets whether, when there is one worker per CPU, each worker process is pinned to a CPU of its own. The default is true.</summary>
    public bool Pin { get; init; } = true;

    /// <summary>Gets whether lock orders are tracked across all iterations to predict deadlocks no explored schedule hit. The default is true.</summary>
    public bool Predict { get; init; } = true;

    /// <summary>Gets whether a failing schedule is shrunk to its fewest preemptions. The default is true.</summary>
    public bool Minimize { get; init; } = true;

    /// <summary>Gets which of the assemblies the tests reach are prepared (rewritten and instrumented).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Preparation.PreparationOptions Preparation { get; init; } = Harness.Preparation.PreparationOptions.Default;

    /// <summary>Gets the accepted findings that must not fail the run, or null.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Baseline? Baseline { get; init; }

    /// <summary>Gets this job's shard (1-based index, count) when the work is split over several CI jobs, or null.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public (int Index, int Count)? Shard { get; init; }

    /// <summary>Gets the hard wall-clock limit of one test's worker: <see cref="Timeout"/> (default 5 minutes) plus a grace period.</summary>
    public TimeSpan WorkerBudget => (this.Timeout ?? TimeSpan.FromMinutes(5)) + TimeSpan.FromSeconds(15);

    /// <summary>Gets the strategies Coyote 1.7 offers, by the names <c>coyote test -s</c> uses, plus <c>portfolio</c>.</summary>
    public static IReadOnlyList<string> Strategies { get; } =
        ["portfolio", "random", "probabilistic", "prioritization", "fair-prioritization", "delay-bounding", "fair-delay-bounding", "q-learning"];

    /// <summary>Parses <c>I/N</c>.</summary>
    public static (int Index, int Count) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var index) && int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var count))
        {
            return (index, count);
        }

        throw new HarnessException($"--shard '{text}' is not of the form I/N (e.g. 2/4).");
    }

    /// <summary>Throws <see cref="HarnessException"/> when an option is out of range.</summary>
    public void Validate()
    {
        if (this.Iterations == 0)
        {
            throw new HarnessException("--iterations must be at least 1.");
        }

        if (this.Strategy is { } s && !Strategies.Contains(s))
        {
            throw new HarnessException($"Unknown strategy '{s}'; use one of: {string.Join(", ", Strategies)}.");
        }

        if (this.MaxSteps is 0)
        {
            throw new HarnessException("--max-steps must be at least 1.");
        }

        if (this.Timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new HarnessException("--timeout must be a positive number of seconds.");
        }

        if (this.Shard is { } shard && (shard.Count < 1 || shard.Index < 1 || shard.Index > shard.Count))
        {
            throw new HarnessException($"--shard {shard.Index}/{shard.Count} is out of range: use I/N with 1 <= I <= N.");
        }

        if (this.Workers < 1)
        {
            throw new HarnessException("--workers must be at least 1.");
        }

        if (this.PreemptionBound is > MaxPreemptionBound)
        {
            throw new HarnessException($"--preemption-bound must be at most {MaxPreemptionBound}: bounds of 2 or 3 catch most bugs, and the schedules grow with the steps to the bound's power.");
        }

        if (this.PreemptionBound is not null && this.Strategy is not null)
        {
            throw new HarnessException("--preemption-bound runs every schedule within the bound, not a strategy's sample: leave out --strategy.");
        }

        if (this.StrategyBound is not null && this.Strategy is null or "portfolio" or "random" or "q-learning")
        {
            throw new HarnessException("--strategy-bound needs --strategy probabilistic, prioritization or delay-bounding (fair or not).");
        }
    }
}
