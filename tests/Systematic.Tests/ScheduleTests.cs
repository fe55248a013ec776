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
        var outcome = new TestRunner(new RunOptions { Iterations = 1000, Seed = 1 }).Run(catalog.Test(name), Paths.NewTempDir(name));

        var fewest = outcome.Minimal?.Stats.Preemptions ?? outcome.Schedule!.Preemptions;
        Assert.Equal(needed, fewest);
        var report = File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile));
        Assert.Contains(needed == 0 ? "needs no preemption" : $"needs {needed} preemption", report, StringComparison.Ordinal);
        Assert.Equal(needed, (outcome.Minimal?.Stats ?? outcome.Schedule!).Narration.Count);
    }

    /// <summary>Each preemption of the minimal schedule is told in one line: who, right after what, and what runs instead.</summary>
    [Theory]
    [InlineData("LockOrderBuggy", "`TransferBuggyAsync#1` is preempted right after taking `accountA` at LockOrder.cs:51; `TransferBuggyAsync#2` runs and takes `accountB` at LockOrder.cs:51.")]
    [InlineData("LockCycle3Buggy", "`TransferBuggyAsync#2` is preempted right after taking `accountB` at LockCycle3.cs:55; `TransferBuggyAsync#3` runs and takes `accountC` at LockCycle3.cs:55.")]
    public void EachPreemptionIsToldWithTaskResourceAndLine(string name, string line)
    {
        var outcome = new TestRunner(new RunOptions { Iterations = 1000, Seed = 1 }).Run(catalog.Test(name), Paths.NewTempDir(name));

        Assert.Contains(line, outcome.Minimal!.Stats.Narration);
        Assert.Contains("- " + line, File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile)), StringComparison.Ordinal);
    }
}
