using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>The result of a whole <c>systematic test</c> run.</summary>
internal sealed record RunResult(string RunId, string RunDir, IReadOnlyList<TestOutcome> Outcomes, IReadOnlyList<PreparedAssembly> Assemblies, bool Interrupted, TimeSpan Elapsed)
{
    /// <summary>Gets the exit code the run deserves.</summary>
    public ExitCode ExitCode => SummaryDocument.Verdict(this.Outcomes.Select(o => SummaryTest.From(o, this.RunDir)), this.Interrupted);
}
