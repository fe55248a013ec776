using System.Runtime.CompilerServices;
using Xunit;
using Xunit.v3;

namespace Systematic;

/// <summary>
/// An xunit v3 test that Systematic explores: the method runs once per iteration under Coyote's scheduler, each time
/// in another interleaving, on a fresh instance of its class. A bug fails the test with its kind, the diagnosis
/// (task, resource, line) and the failure folder (report.md, failure.trace, minimal.trace).
/// </summary>
/// <param name="sourceFilePath">Filled in by the compiler.</param>
/// <param name="sourceLineNumber">Filled in by the compiler.</param>
[XunitTestCaseDiscoverer(typeof(SystematicFactDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystematicFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : FactAttribute(sourceFilePath, sourceLineNumber)
{
    /// <summary>Gets or sets the iterations (schedules) to explore; with <see cref="PreemptionBound"/>, the most schedules to run.</summary>
    public int Iterations { get; set; } = ExploreOptions.DefaultIterations;

    /// <summary>Gets or sets the random seed, or -1 (the default) for a fresh one, printed in the test's output.</summary>
    public long Seed { get; set; } = -1;

    /// <summary>Gets or sets Coyote's exploration strategy (random, probabilistic, prioritization, fair-prioritization, delay-bounding, fair-delay-bounding, q-learning), or null for the portfolio.</summary>
    public string? Strategy { get; set; }

    /// <summary>Gets or sets the most scheduling steps per iteration, or 0 for Coyote's default.</summary>
    public int MaxSteps { get; set; }

    /// <summary>Gets or sets a preemption bound: run every schedule with at most this many preemptions, fewest first (-1, the default: a random search).</summary>
    public int PreemptionBound { get; set; } = -1;

    /// <summary>Gets or sets the failure this test documents (a known bug): it passes when exploration finds a failure of this kind, and fails otherwise.</summary>
    public FailureKind Expected { get; set; }

    /// <summary>Gets or sets a failure folder (or trace) to replay instead of exploring; under a debugger, each key step stops in it.</summary>
    public string? Replay { get; set; }

    /// <summary>The options these properties say.</summary>
    internal ExploreOptions Options => new()
    {
        Iterations = this.Iterations,
        Seed = this.Seed,
        Strategy = this.Strategy,
        MaxSteps = this.MaxSteps,
        PreemptionBound = this.PreemptionBound,
        Expected = this.Expected,
        Replay = this.Replay,
    };
}
