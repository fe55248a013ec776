using Systematic.Harness;
using Systematic.Recording;

namespace Systematic.Tests;

/// <summary>Replaying with --break stops at the failure's key steps, in the task that takes each, at its source line.</summary>
[Collection("engine")]
public sealed class BreakTests(CatalogFixture catalog)
{
    [Fact]
    public void ADeadlockStopsAtEachWaitOfTheCycleInTheWaitingTask()
    {
        var line = ReportTests.SourceLine("LockOrder.cs", "TransferBuggyAsync(", "to.Guard.HoldAsync()");
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 5, Minimize = false }).Run(catalog.Test("LockOrderBuggy"), Paths.NewTempDir("break"));

        var names = new List<KeyStep>();
        var hits = Replay(outcome.ReportDir!, names);

        Assert.Equal(outcome.Diagnosis!.Cycle.Select(l => l.Site!.Key).Order(StringComparer.Ordinal), hits.Select(h => h.Event.Site!.Key).Order(StringComparer.Ordinal));
        Assert.All(hits, h => Assert.Equal(EventKind.Wait, h.Event.Kind));
        Assert.All(hits, h => Assert.Equal(("LockOrder.cs", line), (Path.GetFileName(h.Event.Site!.File), h.Event.Site.Line)));
        Assert.Equal(2, hits.Select(h => h.Event.Task).Distinct().Count());
        Assert.Equal(outcome.Diagnosis.Cycle.Select(l => l.Waiter).Order(StringComparer.Ordinal), names.Select(n => n.Task).Order(StringComparer.Ordinal));
        Assert.Equal(outcome.Diagnosis.Cycle.Select(l => l.Resource!).Order(StringComparer.Ordinal), names.Select(n => n.Resource!).Order(StringComparer.Ordinal));
        Assert.All(hits, h => Assert.Contains("TransferBuggyAsync", h.Stack, StringComparison.Ordinal));
    }

    [Fact]
    public void ALeakStopsAtTheAcquireOfThePermitNeverReleased()
    {
        var line = ReportTests.SourceLine("NoFinally.cs", "FetchBuggyAsync(Semaphore", "connections.AcquireAsync()");
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 5, Minimize = false }).Run(catalog.Test("NoFinallyBuggy"), Paths.NewTempDir("break"));

        var hits = Replay(outcome.ReportDir!);

        // First the acquire whose permit is never given back, then each fetch the leak starves, still waiting at the end.
        var (leak, stack) = hits[0];
        Assert.Equal(EventKind.Acquire, leak.Kind);
        Assert.Equal(("NoFinally.cs", line), (Path.GetFileName(leak.Site!.File), leak.Site.Line));
        Assert.Contains("FetchBuggyAsync", stack, StringComparison.Ordinal);
        Assert.All(hits.Skip(1), h => Assert.Equal(EventKind.Wait, h.Event.Kind));
        Assert.All(hits, h => Assert.Equal(leak.Resource, h.Event.Resource));
        Assert.Equal(hits.Select(h => h.Event.Seq).Order(), hits.Select(h => h.Event.Seq));
    }

    [Fact]
    public void TheMinimalScheduleStopsAtTheSameLines()
    {
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 1 }).Run(catalog.Test("LockCycle3Buggy"), Paths.NewTempDir("break"));
        Assert.NotNull(outcome.Minimal);
        Assert.True(outcome.Minimal.Stats.Preemptions < outcome.Schedule!.Preemptions);

        var original = Replay(outcome.ReportDir!);
        var minimal = Replay(Path.Combine(outcome.ReportDir!, outcome.Minimal!.Trace));

        Assert.Equal(3, original.Count);
        Assert.Equal(original.Select(h => h.Event.Site!.Key).Order(StringComparer.Ordinal), minimal.Select(h => h.Event.Site!.Key).Order(StringComparer.Ordinal));
    }

    private static List<(RecordedEvent Event, string Stack)> Replay(string path, List<KeyStep>? steps = null)
    {
        var hits = new List<(RecordedEvent Event, string Stack)>();
        var result = Replayer.Replay(path, atKeyStep: step =>
        {
            hits.Add((step.Event, Environment.StackTrace));
            steps?.Add(step);
        });
        Assert.True(result.Reproduced, result.Explanation);
        return hits;
    }
}
