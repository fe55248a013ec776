using System.Diagnostics;
using System.Security.Cryptography;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>A plain-BCL assembly Systematic did not write: same diagnosis, no code changes, traces replay in both tools.</summary>
[Collection("engine")]
public sealed class UserCodeTests
{
    private static readonly Lazy<(PreparedAssembly Assembly, string OutDir)> Prepared = new(() =>
    {
        var outdir = Paths.NewTempDir("usercode");
        return (PreparedAssembly.Prepare(Paths.UserCode, Path.Combine(outdir, ".assemblies")), outdir);
    });

    /// <summary>What each buggy scenario of the sample is, as its author describes it in the sample's comments.</summary>
    public static TheoryData<string, FailureKind> Buggy => new()
    {
        { "PooledConnectionLeakBuggy", FailureKind.Leak },
        { "TransferCycleBuggy", FailureKind.LockOrderDeadlock },
        { "EventBusReentryBuggy", FailureKind.SelfDeadlock },
        { "RateLimiterTimeoutBuggy", FailureKind.OverRelease },
        { "WorkQueueDeadlockBuggy", FailureKind.LockOrderDeadlock },
        { "DiningPhilosophersBuggy", FailureKind.LockOrderDeadlock },
        { "ReindexWhileWritingBuggy", FailureKind.LockOrderDeadlock },
        { "SnapshotWhileExportingBuggy", FailureKind.LockOrderDeadlock },
        { "ReindexWhileCountingBuggy", FailureKind.LockOrderDeadlock },
        { "CopyWhileFaxingBuggy", FailureKind.LockOrderDeadlock },
        { "PulseInsteadOfPulseAllBuggy", FailureKind.LostWakeup },
        { "SlotUnderMutexBuggy", FailureKind.LockOrderDeadlock },
        { "RecursiveFactoryBuggy", FailureKind.SelfDeadlock },
        { "StoredCallbackBuggy", FailureKind.SelfDeadlock },
        { "NestedWorkItemBuggy", FailureKind.SelfDeadlock },
        { "KeyedTransferBuggy", FailureKind.LockOrderDeadlock },
    };

    public static TheoryData<string> Fixed => new()
    {
        "PooledConnectionLeakFixed", "TransferCycleFixed", "EventBusReentryFixed", "RateLimiterTimeoutFixed", "WorkQueueDeadlockFixed", "DiningPhilosophersFixed", "ReindexWhileWritingFixed", "CopyWhileFaxingFixed", "PulseInsteadOfPulseAllFixed", "SlotUnderMutexFixed", "LeftoverJobUndeclared", "RecursiveFactoryFixed", "StoredCallbackFixed", "NestedWorkItemFixed", "KeyedTransferFixed",
    };

    [Fact]
    public void PlainBuildOutputIsRewrittenAndInstrumentedAsACopyAndLeftUntouched()
    {
        var before = Hash(Paths.UserCode);
        var dir = Paths.NewTempDir("prepare");

        var prepared = PreparedAssembly.Prepare(Paths.UserCode, dir);

        Assert.Equal(before, Hash(Paths.UserCode));
        Assert.NotEqual(Path.GetFullPath(Paths.UserCode), prepared.Path);
        Assert.StartsWith(dir, prepared.Path, StringComparison.Ordinal);
        Assert.Contains(prepared.Closure, d => d.Name == "Samples.UserCode" && d.Action == Harness.Preparation.PreparationAction.Rewritten);
        Assert.True(Instrumentation.Instrumenter.IsCoyoteRewritten(prepared.Path));
        Assert.True(Instrumentation.Instrumenter.IsInstrumented(prepared.Path));
        Assert.False(Instrumentation.Instrumenter.IsCoyoteRewritten(Paths.UserCode));
    }

    [Theory]
    [MemberData(nameof(Buggy))]
    public void EveryBugIsFoundWithItsKindAndReplaysInSystematicAndStockCoyote(string name, FailureKind kind)
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == name);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 3_000_017 }).Run(test, Paths.NewTempDir(name));

        Assert.True(outcome.Outcome == Outcome.Bug, $"no bug in {outcome.Iterations} iterations");
        Assert.True(kind == outcome.Kind, $"{outcome.Kind}: {outcome.Diagnosis?.Sentence}");
        Assert.Empty(outcome.Uncontrolled);
        var replay = Replayer.Replay(outcome.ReportDir!);
        Assert.True(replay.Reproduced, replay.Explanation);
        var failure = FailureReport.Read(outcome.ReportDir!);
        foreach (var stock in new[] { failure.Replay.Coyote, failure.MinimalReplay?.Coyote }.OfType<string>())
        {
            // Stock `coyote replay` exits 2 ("bug found") when it reproduces the bug; the minimal schedule must too.
            var (exit, output) = Shell(stock);
            Assert.True(exit == 2 && output.Contains("Reproduced 1 bug", StringComparison.Ordinal), $"`{stock}` exited {exit}: {output}");
        }

        if (outcome.Minimal is { } minimal)
        {
            Assert.True(Replayer.Replay(Path.Combine(outcome.ReportDir!, minimal.Trace)).Reproduced);
        }
    }

    [Theory]
    [MemberData(nameof(Fixed))]
    public void EveryFixedTwinPassesAThousandIterationsWithNoFalseAlarm(string name)
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == name);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 3_000_017 }).Run(test, Paths.NewTempDir(name));

        Assert.True(outcome.Outcome == Outcome.Passed, outcome.Diagnosis?.Sentence);
        Assert.Equal(1000, outcome.Iterations);
    }

    [Fact]
    public void LocksTakenThroughAnAsyncHelperArePlacedAtTheCallsThatTookThemInOppositeOrders()
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "KeyedTransferBuggy");
        var source = File.ReadAllLines(Path.Combine(Paths.RepoRoot, "tests", "Samples.UserCode", "KeyedLocks.cs"));
        int Line(string text) => Array.FindIndex(source, l => l.Contains(text, StringComparison.Ordinal)) + 1;

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 3_000_017 }).Run(test, Paths.NewTempDir("keyed"));

        Assert.Equal(FailureKind.LockOrderDeadlock, outcome.Kind);
        var wait = $"KeyedLocks.cs:{Line("await gate.WaitAsync();")}";
        var sentence = outcome.Diagnosis!.Sentence;
        Assert.Contains($"waits at {wait} via KeyedLocks.cs:{Line("var destination = await LockAsync(to);")} for `", sentence, StringComparison.Ordinal);
        Assert.All(outcome.Diagnosis.Holdings, h => Assert.Equal(Line("var source = await LockAsync(from);"), h.Site!.CalledFrom!.Line));
        Assert.Contains($"{wait} via KeyedLocks.cs:{Line("var source = await LockAsync(from);")}", File.ReadAllText(Path.Combine(outcome.ReportDir!, "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void ALostWakeUpNamesTheMonitorEveryWaiterAndThePulseThatWokeTheWrongOne()
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "PulseInsteadOfPulseAllBuggy");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 5 }).Run(test, Paths.NewTempDir("pulse"));

        Assert.Equal(FailureKind.LostWakeup, outcome.Kind);
        Assert.Equal(["HandoffQueue._sync"], outcome.Diagnosis!.Resources);
        Assert.Contains("waits in Monitor.Wait on `HandoffQueue._sync` at HandoffQueue.cs:", outcome.Diagnosis.Sentence, StringComparison.Ordinal);
        Assert.Matches("The last Pulse of `HandoffQueue._sync`, at HandoffQueue.cs:\\d+ by `(Put|Take)#\\d`, woke `(Put|Take)#\\d` only", outcome.Diagnosis.Sentence);
        var report = File.ReadAllText(Path.Combine(outcome.ReportDir!, FailureReport.MarkdownFile));
        Assert.Contains("Pulse woke", report, StringComparison.Ordinal);
        Assert.Contains("Monitor.Wait", report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RecursiveFactoryBuggy", "MemoCache._gate")]
    [InlineData("StoredCallbackBuggy", "SettingsStore._sync")]
    [InlineData("NestedWorkItemBuggy", "SerialRunner._turn")]
    public void AReentryThroughADelegateNamesTheLockItsFirstAcquireAndTheReenteringWait(string name, string resource)
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == name);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 200, Seed = 5 }).Run(test, Paths.NewTempDir(name));

        Assert.Equal(FailureKind.SelfDeadlock, outcome.Kind);
        Assert.Equal([resource], outcome.Diagnosis!.Resources);
        Assert.Matches($"holds `{System.Text.RegularExpressions.Regex.Escape(resource)}` \\(taken at Reentry\\.cs:\\d+( via Reentry\\.cs:\\d+)*\\) and awaits work in which `[^`]+` waits at Reentry\\.cs:\\d+( via Reentry\\.cs:\\d+)* for that same", outcome.Diagnosis.Sentence);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(1_000_004u)]
    [InlineData(2_000_007u)]
    public void FiveDinersArePredictedInTheFirstIterationAndConfirmedInTheNextByTheScheduleThePredictionImplies(uint seed)
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "DiningPhilosophersBuggy");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = seed, Minimize = false }).Run(test, Paths.NewTempDir("directed"));

        Assert.Equal(FailureKind.LockOrderDeadlock, outcome.Kind);
        Assert.Equal(1, outcome.PredictedAt);
        Assert.Equal(2, outcome.FirstBugIteration);
        Assert.Contains(outcome.Diagnosis!.Consequences, c => c.Contains("confirmed in the next iteration by the schedule the prediction implies", StringComparison.Ordinal));

        // The schedule was built from the plan: both replays build it again from the plan file.
        Assert.True(File.Exists(Path.Combine(outcome.ReportDir!, FailureReport.PlanFile)));
        Assert.True(Replayer.Replay(outcome.ReportDir!).Reproduced);
        var stock = FailureReport.Read(outcome.ReportDir!).Replay.Coyote!;
        Assert.StartsWith(Recording.DirectedPlan.Variable + "=", stock, StringComparison.Ordinal);
        var (exit, output) = Shell(stock);
        Assert.True(exit == 2 && output.Contains("Reproduced 1 bug", StringComparison.Ordinal), $"`{stock}` exited {exit}: {output}");
    }

    [Fact]
    public void ACycleThroughSixLockInstancesMadeInALoopIsPredictedInTheFirstIteration()
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "SixDinersInTurns");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 100, Seed = 5 }).Run(test, Paths.NewTempDir("six"));

        Assert.Equal(FailureKind.PotentialLockOrderDeadlock, outcome.Kind);
        Assert.Equal(1, outcome.PredictedAt);
        Assert.Equal(6, outcome.Diagnosis!.Resources.Distinct().Count());
    }

    [Fact]
    public void ResourcesAreNamedByTheFieldTheyWereCreatedIntoAndTasksByTheirEntryMethod()
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "TransferCycleBuggy");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 11 }).Run(test, Paths.NewTempDir("names"));

        var diagnosis = outcome.Diagnosis!;
        Assert.Equal(3, diagnosis.Resources.Count);
        Assert.All(diagnosis.Resources, r => Assert.StartsWith("Account._gate", r, StringComparison.Ordinal));
        Assert.All(diagnosis.Cycle, link => Assert.StartsWith("TransferToAsync#", link.Waiter, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ReindexWhileWritingBuggy", "ReindexBuggy", "SetPrice")]
    [InlineData("SnapshotWhileExportingBuggy", "ExportBuggyAsync", "SnapshotAsync")]
    [InlineData("CopyWhileFaxingBuggy", "Copy", "FaxBuggy")]
    [InlineData("ReindexWhileCountingBuggy", "ReindexBuggy", "SetPrice")]
    public void BodiesStartedWithTaskFactoryStartNewOrOnThreadsAreTasksOfTheirOwn(string name, string first, string second)
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == name);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 5 }).Run(test, Paths.NewTempDir("startnew"));

        Assert.Equal(FailureKind.LockOrderDeadlock, outcome.Kind);
        Assert.Equal([first, second], outcome.Diagnosis!.Cycle.Select(link => link.Waiter).Order(StringComparer.Ordinal));
        Assert.Empty(outcome.Uncontrolled);
    }

    [Fact]
    public void ASemaphoreItsCallSitesShowIsASignalMayEndShortDeclaredOrNot()
    {
        var undeclared = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "LeftoverJobUndeclared");
        var declared = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "LeftoverJobDeclared");

        var inferred = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 2 }).Run(undeclared, Paths.NewTempDir("undeclared"));
        var pass = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 2 }).Run(declared, Paths.NewTempDir("declared"));

        // _free is released in TakeAsync, which never takes it; _queued in PostAsync: counts, not locks.
        Assert.True(inferred.Outcome == Outcome.Passed, inferred.Diagnosis?.Sentence);
        Assert.Null(inferred.PredictedAt);
        Assert.True(pass.Outcome == Outcome.Passed, pass.Diagnosis?.Sentence);
        Assert.Equal(1000, pass.Iterations);
        Assert.Null(pass.PredictedAt);
    }

    [Fact]
    public void ACycleThroughASignalSaysWhichCodeAloneReleasesItEvenBeforeItEverRan()
    {
        var test = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "SlotUnderMutexBuggy");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 5 }).Run(test, Paths.NewTempDir("signal"));

        Assert.Equal(FailureKind.LockOrderDeadlock, outcome.Kind);
        Assert.Equal(["ReportSpool._mutex", "ReportSpool._slots"], outcome.Diagnosis!.Resources.Order(StringComparer.Ordinal));
        Assert.Contains("for `ReportSpool._slots`, which only `NextAsync` releases", outcome.Diagnosis.Sentence, StringComparison.Ordinal);
        var log = FailureReport.Read(outcome.ReportDir!).Log!;
        var slots = log.Resources.Single(r => r.Name == "ReportSpool._slots");
        Assert.Equal(["ReportSpool.NextAsync"], slots.Releasers);
        Assert.DoesNotContain(log.Events, e => e.Kind == Recording.EventKind.Release && e.Resource == slots.Id);
    }

    [Fact]
    public void LockOrdersSeenInPassingSchedulesArePredictedAndConfirmedWhenASchedulerCanHitThem()
    {
        var sequential = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "OppositeOrdersInSequence");
        var concurrent = Prepared.Value.Assembly.Tests.Single(t => t.ShortName == "OppositeOrdersRarelyInterleaved");

        var latent = new TestRunner(new ExplorationOptions { Iterations = 300, Seed = 1 }).Run(sequential, Paths.NewTempDir("latent"));
        var real = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 1 }).Run(concurrent, Paths.NewTempDir("real"));

        Assert.Equal(FailureKind.PotentialLockOrderDeadlock, latent.Kind);
        Assert.Equal(["OrderBook._asks", "OrderBook._bids"], latent.Diagnosis!.Resources.Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(latent.ReportDir!, FailureReport.MarkdownFile)));
        Assert.Equal(FailureKind.LockOrderDeadlock, real.Kind);
        Assert.NotNull(real.PredictedAt);
        Assert.True(real.PredictedAt <= real.FirstBugIteration, $"predicted at {real.PredictedAt}, deadlocked at {real.FirstBugIteration}");
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static (int Exit, string Output) Shell(string command)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Paths.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"`{command}` did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }
}
