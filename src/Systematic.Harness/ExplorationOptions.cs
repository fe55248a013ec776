using Microsoft.Coyote;

namespace Systematic.Harness;

/// <summary>
/// How to explore one test: all a worker is given, and all <see cref="TestRunner"/> reads. What runs the session
/// (workers, shards, the report folder, the baseline) is in <see cref="RunOptions"/>.
/// </summary>
internal sealed record ExplorationOptions
{
    /// <summary>The most preemptions <see cref="PreemptionBound"/> takes: the schedules grow with the steps to this power.</summary>
    public const uint MaxPreemptionBound = 6;

    /// <summary>The schedules a bounded search runs at most when <c>--iterations</c> is not given.</summary>
    public const uint DefaultScheduleBudget = 100_000;

    /// <summary>Gets the iterations per test (with <see cref="PreemptionBound"/>, the most schedules). The default is 1,000.</summary>
    public uint Iterations { get; init; } = 1000;

    /// <summary>Gets the strategy name (one of <see cref="Strategies"/>), or null for Coyote's default fair portfolio.</summary>
    public string? Strategy { get; init; }

    /// <summary>Gets the strategy bound (probabilistic level, priority changes or delays), or null for the strategy's default.</summary>
    public uint? StrategyBound { get; init; }

    /// <summary>
    /// Gets the preemption bound, or null for a random search: when set, every schedule with at most this many
    /// preemptions is run, fewest first, with <see cref="Iterations"/> as the most schedules (a bounded guarantee
    /// instead of a sample).
    /// </summary>
    public uint? PreemptionBound { get; init; }

    /// <summary>Gets the random seed, or null for a fresh one.</summary>
    public uint? Seed { get; init; }

    /// <summary>Gets the maximum scheduling steps per iteration, or null for Coyote's default (10,000).</summary>
    public uint? MaxSteps { get; init; }

    /// <summary>Gets the wall-clock budget per test, or null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Gets whether lock orders are tracked across all iterations to predict deadlocks no explored schedule hit. The default is true.</summary>
    public bool Predict { get; init; } = true;

    /// <summary>Gets whether a failing schedule is shrunk to its fewest preemptions. The default is true.</summary>
    public bool Minimize { get; init; } = true;

    /// <summary>Gets the hard wall-clock limit of one test's worker: <see cref="Timeout"/> (default 5 minutes) plus a grace period.</summary>
    public TimeSpan WorkerBudget => (this.Timeout ?? DefaultWorkerTimeout) + WorkerGrace;

    /// <summary>Gets the strategies Coyote 1.7 offers, by the names <c>coyote test -s</c> uses, plus <c>portfolio</c>.</summary>
    public static IReadOnlyList<string> Strategies { get; } = [.. StrategyTable.All.Select(s => s.Name)];

    /// <summary>Gets the strategy these options explore with: the named one, or the portfolio.</summary>
    internal StrategyTable.Entry StrategyEntry => StrategyTable.Find(this.Strategy ?? StrategyTable.Portfolio)!;

    private static readonly TimeSpan DefaultWorkerTimeout = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan WorkerGrace = TimeSpan.FromSeconds(15);

    /// <summary>Throws <see cref="HarnessException"/>, in the command line's words, when an option is out of range.</summary>
    public void Validate()
    {
        if (this.Iterations == 0)
        {
            throw new HarnessException("--iterations must be at least 1.");
        }

        if (this.Strategy is { } s && StrategyTable.Find(s) is null)
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

        if (this.PreemptionBound is > MaxPreemptionBound)
        {
            throw new HarnessException($"--preemption-bound must be at most {MaxPreemptionBound}: bounds of 2 or 3 catch most bugs, and the schedules grow with the steps to the bound's power.");
        }

        if (this.PreemptionBound is not null && this.Strategy is not null)
        {
            throw new HarnessException("--preemption-bound runs every schedule within the bound, not a strategy's sample: leave out --strategy.");
        }

        if (this.StrategyBound is not null && this.StrategyEntry.DefaultBound is null)
        {
            throw new HarnessException($"--strategy-bound needs --strategy {string.Join(", ", StrategyTable.All.Where(e => e.DefaultBound is not null).Select(e => e.Name))}.");
        }
    }
}

/// <summary>Coyote 1.7's strategies: one row each, owning its name, its fairness and its default bound.</summary>
internal static class StrategyTable
{
    /// <summary>Coyote's default: a portfolio of fair strategies.</summary>
    public const string Portfolio = "portfolio";

    /// <summary>Gets every strategy, in the order the command line lists them.</summary>
    public static IReadOnlyList<Entry> All { get; } =
    [
        new(Portfolio, Fair: true, DefaultBound: null, (c, _) => c),
        new("random", Fair: true, DefaultBound: null, (c, _) => c.WithRandomStrategy()),
        new("probabilistic", Fair: true, DefaultBound: 3, (c, b) => c.WithProbabilisticStrategy(b)),
        new("prioritization", Fair: false, DefaultBound: 10, (c, b) => c.WithPrioritizationStrategy(false, b)),
        new("fair-prioritization", Fair: true, DefaultBound: 10, (c, b) => c.WithPrioritizationStrategy(true, b)),
        new("delay-bounding", Fair: false, DefaultBound: 10, (c, b) => c.WithDelayBoundingStrategy(false, b)),
        new("fair-delay-bounding", Fair: true, DefaultBound: 10, (c, b) => c.WithDelayBoundingStrategy(true, b)),
        new("q-learning", Fair: false, DefaultBound: null, (c, _) => c.WithQLearningStrategy()),
    ];

    /// <summary>Returns the strategy named <paramref name="name"/>, or null.</summary>
    public static Entry? Find(string name) => All.FirstOrDefault(e => e.Name == name);

    /// <summary>One strategy.</summary>
    /// <param name="Name">Its name, as <c>coyote test -s</c> takes it.</param>
    /// <param name="Fair">Whether it is fair: under it, hitting the step bound is a hang (an unfair one may starve a polling task by design).</param>
    /// <param name="DefaultBound">Its bound when none is given, or null when it takes none.</param>
    /// <param name="Apply">Sets it on a configuration, with the bound to use.</param>
    internal sealed record Entry(string Name, bool Fair, uint? DefaultBound, Func<Configuration, uint, Configuration> Apply);
}
