using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>
/// How a session runs: which tests, where reports go, how many workers, which shard, which accepted findings, and, for
/// each test, how to explore it (<see cref="Exploration"/>, all a worker is given).
/// </summary>
internal sealed record RunOptions
{
    /// <summary>Gets how each test is explored.</summary>
    public ExplorationOptions Exploration { get; init; } = new();

    /// <summary>Gets how a reader of the reports runs Systematic, for the replay commands they print (the command line that runs knows: <c>systematic</c>, or <c>dotnet run --project ... --</c> in a checkout).</summary>
    public string ReplayTool { get; init; } = FailureReport.DefaultTool;

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

    /// <summary>Gets which of the assemblies the tests reach are prepared (rewritten and instrumented).</summary>
    public Preparation.PreparationOptions Preparation { get; init; } = Harness.Preparation.PreparationOptions.Default;

    /// <summary>Gets the accepted findings that must not fail the run, or null.</summary>
    public Baseline? Baseline { get; init; }

    /// <summary>Gets this job's shard (1-based index, count) when the work is split over several CI jobs, or null.</summary>
    public (int Index, int Count)? Shard { get; init; }

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

    /// <summary>Throws <see cref="HarnessException"/>, in the command line's words, when an option is out of range.</summary>
    public void Validate()
    {
        this.Exploration.Validate();
        if (this.Shard is { } shard && (shard.Count < 1 || shard.Index < 1 || shard.Index > shard.Count))
        {
            throw new HarnessException($"--shard {shard.Index}/{shard.Count} is out of range: use I/N with 1 <= I <= N.");
        }

        if (this.Workers < 1)
        {
            throw new HarnessException("--workers must be at least 1.");
        }
    }
}
