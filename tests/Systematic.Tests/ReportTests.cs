using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>The diagnosis names the right resource, task and source line, in failure.json and report.md.</summary>
[Collection("engine")]
public sealed class ReportTests(CatalogFixture catalog)
{
    // A reader of its own, as a user's tool would have: web defaults and enums as strings.
    private static readonly JsonSerializerOptions Reader = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    [Fact]
    public void LeakNamesTheSemaphoreTheLeakingTaskAndItsAcquireLine()
    {
        var line = SourceLine("NoFinally.cs", "FetchBuggyAsync(Semaphore", "connections.AcquireAsync()");

        var (failure, markdown) = this.Fail("NoFinallyBuggy");

        Assert.Equal(FailureKind.Leak, failure.Kind);
        Assert.Equal("connections", Assert.Single(failure.Resources));
        Assert.Contains("`FetchBuggyAsync#", failure.Sentence, StringComparison.Ordinal);
        Assert.Contains($"NoFinally.cs:{line}", failure.Sentence, StringComparison.Ordinal);
        Assert.StartsWith("# Leak:", markdown, StringComparison.Ordinal);
        Assert.Contains("## Timeline", markdown, StringComparison.Ordinal);
        Assert.Contains(failure.Replay.Coyote!, markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void LockOrderCycleNamesBothLocksBothTransfersAndTheWaitingLine()
    {
        var line = SourceLine("LockOrder.cs", "TransferBuggyAsync(", "to.Guard.HoldAsync()");

        var (failure, markdown) = this.Fail("LockOrderBuggy");

        Assert.Equal(FailureKind.LockOrderDeadlock, failure.Kind);
        Assert.Equal(["accountA", "accountB"], failure.Resources.Order(StringComparer.Ordinal));
        Assert.Equal(2, failure.Cycle.Count);
        Assert.Equal(["TransferBuggyAsync#1", "TransferBuggyAsync#2"], failure.Cycle.Select(c => c.Waiter).Order(StringComparer.Ordinal));
        Assert.All(failure.Cycle, link => Assert.Equal(("LockOrder.cs", line), (Path.GetFileName(link.Site!.File), link.Site.Line)));
        Assert.Contains("a lock-order cycle", failure.Sentence, StringComparison.Ordinal);
        Assert.Contains("## Wait-for cycle", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void SelfDeadlockNamesTheLockTheTaskAndBothLines()
    {
        var taken = SourceLine("Reentrant.cs", "DepositBuggyAsync(", "guard.HoldAsync()");
        var waits = SourceLine("Reentrant.cs", "Task ChargeFeeAsync(", "guard.HoldAsync()");

        var (failure, _) = this.Fail("ReentrantBuggy");

        Assert.Equal(FailureKind.SelfDeadlock, failure.Kind);
        Assert.Equal("wallet", Assert.Single(failure.Resources));
        Assert.Contains("`DepositBuggyAsync#", failure.Sentence, StringComparison.Ordinal);
        Assert.Contains($"waits at Reentrant.cs:{waits}", failure.Sentence, StringComparison.Ordinal);
        Assert.Contains($"taken at Reentrant.cs:{taken}", failure.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void FailureJsonIsVersionedAndCarriesTheRecordedTimeline()
    {
        var (failure, _) = this.Fail("EarlyReturnBuggy");

        Assert.Equal(FailureDocument.CurrentSchema, failure.Schema);
        Assert.NotNull(failure.Log);
        Assert.Contains(failure.Log.Events, e => e.Kind == Recording.EventKind.Acquire);
        Assert.True(File.Exists(failure.Assembly));
        Assert.True(failure.Reproducible);
    }

    private (FailureDocument Failure, string Markdown) Fail(string test)
    {
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 5 }).Run(catalog.Test(test), Paths.NewTempDir(test));
        Assert.Equal(Outcome.Bug, outcome.Outcome);
        var json = File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.JsonFile));
        var failure = JsonSerializer.Deserialize<FailureDocument>(json, Reader)!;
        return (failure, File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile)));
    }

    /// <summary>The 1-based line of the first <paramref name="marker"/> after the line containing <paramref name="method"/>.</summary>
    internal static int SourceLine(string file, string method, string marker)
    {
        var lines = File.ReadAllLines(Path.Combine(Paths.RepoRoot, "src", "Systematic.Catalog", "Patterns", file));
        var start = Array.FindIndex(lines, l => l.Contains(method, StringComparison.Ordinal) && !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && l.Contains("async", StringComparison.Ordinal));
        Assert.True(start >= 0, $"{method} not found in {file}");
        var index = Array.FindIndex(lines, start, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.True(index >= 0, $"{marker} not found after {method} in {file}");
        return index + 1;
    }
}

/// <summary>The in-process replay helper that developers call from their own tests.</summary>
[Collection("engine")]
public sealed class ReplayAssertTests(CatalogFixture catalog)
{
    [Fact]
    public void ReproducesReturnsForARecordedFailureAndThrowsWhenTheRecordSaysAnotherFailure()
    {
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 21 }).Run(catalog.Test("ReentrantBuggy"), Paths.NewTempDir("assert"));

        var error = Record.Exception(() => ReplayAssert.Reproduces(outcome.ReportDir!));

        Assert.Equal(FailureKind.SelfDeadlock, outcome.Kind);
        Assert.Null(error);
        var facts = Path.Combine(outcome.ReportDir!, FailureReport.JsonFile);
        File.WriteAllText(facts, File.ReadAllText(facts).Replace("\"kind\": \"SelfDeadlock\"", "\"kind\": \"Leak\"", StringComparison.Ordinal));
        var mismatch = Assert.Throws<ReplayMismatchException>(() => ReplayAssert.Reproduces(outcome.ReportDir!));
        Assert.Contains("recorded Leak", mismatch.Message, StringComparison.Ordinal);
    }
}
