using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Minimal schedules have the preemptions each bug needs by construction, counted exactly from the recording.</summary>
[Collection("engine")]
public sealed class ScheduleTests(CatalogFixture catalog)
{
    [Theory]
    [InlineData("LockOrderBuggy", 1)]
    [InlineData("LockCycle3Buggy", 2)]
    [InlineData("NoFinallyBuggy", 0)]
    [InlineData("EarlyReturnBuggy", 0)]
    public void TheMinimalScheduleHasThePreemptionsTheBugNeeds(string name, int needed)
    {
        var outcome = new TestRunner(new RunOptions { Iterations = 1000, Seed = 1 }).Run(catalog.Test(name), Paths.NewTempDir(name));

        var fewest = outcome.Minimal?.Stats.Preemptions ?? outcome.Schedule!.Preemptions;
        Assert.Equal(needed, fewest);
        var report = File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile));
        Assert.Contains(needed == 0 ? "needs no preemption" : $"needs {needed} preemption", report, StringComparison.Ordinal);
    }
}
