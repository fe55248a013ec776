using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Minimal schedules have the preemptions each bug needs by construction, counted exactly from the recording.</summary>
[Collection("engine")]
public sealed class ScheduleTests(CatalogFixture catalog)
{
    [Theory]
    [InlineData("LockOrderBuggy", 1)]
    [InlineData("LockCycle3Buggy", 1)]
    [InlineData("NoFinallyBuggy", 0)]
    [InlineData("EarlyReturnBuggy", 0)]
    public void TheMinimalScheduleHasThePreemptionsTheBugNeeds(string name, int needed)
    {
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 1 }).Run(catalog.Test(name), Paths.NewTempDir(name));

        var fewest = outcome.Minimal?.Stats.Preemptions ?? outcome.Schedule!.Preemptions;
        Assert.Equal(needed, fewest);
        var report = File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile));
        Assert.Contains(needed == 0 ? "needs no preemption" : $"needs exactly {needed} preemption", report, StringComparison.Ordinal);
        Assert.Equal(needed, (outcome.Minimal?.Stats ?? outcome.Schedule!).Narration.Count);
    }

    /// <summary>Each preemption of the minimal schedule is told in one line: who, right after what, and what runs instead.</summary>
    [Theory]
    [InlineData("LockOrderBuggy", "`TransferBuggyAsync#2` is preempted right after taking `accountB` at LockOrder.cs:51; `TransferBuggyAsync#1` runs and takes `accountA` at LockOrder.cs:51.")]
    [InlineData("LockCycle3Buggy", "`TransferBuggyAsync#2` is preempted right after taking `accountB` at LockCycle3.cs:55; `TransferBuggyAsync#1` runs and takes `accountA` at LockCycle3.cs:55.")]
    public void EachPreemptionIsToldWithTaskResourceAndLine(string name, string line)
    {
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 1 }).Run(catalog.Test(name), Paths.NewTempDir(name));

        Assert.Contains(line, outcome.Minimal!.Stats.Narration);
        Assert.Contains("- " + line, File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile)), StringComparison.Ordinal);
    }

    /// <summary>A bounded search runs every schedule within its bound: a fixed variant passes with the count stated; a buggy one fails at the fewest preemptions, and its trace replays.</summary>
    [Fact]
    public void ABoundedSearchCoversEveryScheduleWithinItsBound()
    {
        var runner = new TestRunner(new ExplorationOptions { PreemptionBound = 2, Iterations = 100_000 });
        var fixedOutcome = runner.Run(catalog.Test("LockOrderFixed"), Paths.NewTempDir("bounded"));
        var coverage = fixedOutcome.Bounded!;
        Assert.Equal(Outcome.Passed, fixedOutcome.Outcome);
        Assert.True(coverage.Exhausted);
        Assert.Equal(coverage.Schedules, coverage.ByPreemptions.Sum());
        Assert.True(coverage.ByPreemptions.All(n => n > 0));
        Assert.Equal($"no bug in any of {coverage.Schedules:N0} schedules with at most 2 preemptions", coverage.Statement);

        // Fewer schedules within a smaller bound, and the same ones first.
        var one = new TestRunner(new ExplorationOptions { PreemptionBound = 1, Iterations = 100_000 }).Run(catalog.Test("LockOrderFixed"), Paths.NewTempDir("bounded")).Bounded!;
        Assert.Equal(coverage.ByPreemptions.Take(2), one.ByPreemptions);

        var buggy = runner.Run(catalog.Test("LockOrderBuggy"), Paths.NewTempDir("bounded"));
        Assert.Equal(FailureKind.LockOrderDeadlock, buggy.Kind);
        Assert.Equal(1, buggy.Minimal!.Stats.Preemptions);
        Assert.True(buggy.Minimal.Minimal);
        Assert.True(Replayer.Replay(buggy.ReportDir!).Reproduced);
    }
}
