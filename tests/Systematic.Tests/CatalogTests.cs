using Microsoft.Coyote;
using Mono.Cecil;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Every catalog pair, through the harness and through bare Coyote: buggy variants fail with their declared kind and replay, fixed ones pass.</summary>
[Collection("engine")]
public sealed class CatalogTests(CatalogFixture catalog)
{
    /// <summary>Widely spaced seeds: Coyote advances the seed by one per iteration, so close seeds explore shifted copies of one sequence.</summary>
    private static readonly uint[] Seeds = [1, 1_000_003, 2_000_006];

    public static TheoryData<string> BuggyTests => Names(buggy: true);

    public static TheoryData<string> FixedTests => Names(buggy: false);

    [Theory]
    [MemberData(nameof(BuggyTests))]
    public void BuggyVariantIsCaughtWithItsDeclaredKindOnSeveralSeedsAndEveryFailureReplays(string name)
    {
        var test = catalog.Test(name);
        Assert.NotNull(test.Expected);

        foreach (var seed in Seeds)
        {
            var runDir = Paths.NewTempDir($"{name}-{seed}");
            var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = seed }).Run(test, runDir);

            Assert.True(outcome.Outcome == Outcome.Bug, $"seed {seed}: no bug in {outcome.Iterations} iterations");
            Assert.True(test.Expected == outcome.Kind, $"seed {seed}: {outcome.Kind}, expected {test.Expected}: {outcome.Diagnosis?.Sentence}");
            Assert.Empty(outcome.Uncontrolled);
            var replay = Replayer.Replay(outcome.ReportDir!);
            Assert.True(replay.Reproduced, $"seed {seed}: {replay.Explanation}");
            if (outcome.Minimal is { } minimal)
            {
                Assert.True(minimal.Stats.Preemptions <= outcome.Schedule!.Preemptions);
                var shrunk = Replayer.Replay(Path.Combine(outcome.ReportDir!, minimal.Trace));
                Assert.True(shrunk.Reproduced, $"seed {seed}, minimal schedule: {shrunk.Explanation}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(FixedTests))]
    public void FixedVariantPassesAThousandIterationsWithNoUncontrolledCalls(string name)
    {
        var test = catalog.Test(name);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 4_000_037 }).Run(test, Paths.NewTempDir(name));

        Assert.True(outcome.Outcome == Outcome.Passed, outcome.Diagnosis?.Sentence);
        Assert.Equal(1000, outcome.Iterations);
        Assert.Empty(outcome.Uncontrolled);
        Assert.Null(outcome.PredictedAt);
    }

    [Theory]
    [InlineData("LockOrderBuggy")]
    [InlineData("LockCycle3Buggy")]
    public void LockOrderPredictionSeesTheCycleNoLaterThanTheDeadlock(string name)
    {
        foreach (var seed in Seeds)
        {
            var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = seed, Minimize = false }).Run(catalog.Test(name), Paths.NewTempDir(name));

            Assert.Equal(FailureKind.LockOrderDeadlock, outcome.Kind);
            if (outcome.PredictedAt is { } predicted)
            {
                Assert.True(predicted <= outcome.FirstBugIteration, $"seed {seed}: predicted at {predicted}, deadlocked at {outcome.FirstBugIteration}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(BuggyTests))]
    public void BareCoyoteFindsTheBuggyVariantsBugAndItsTraceReplaysToTheSameError(string name)
    {
        var method = StockCatalog.Value.Tests.Single(t => t.ShortName == name).Method;

        var (bugs, message, trace, uncontrolled) = RunBare(Configuration.Create().WithTestingIterations(1000).WithRandomGeneratorSeed(17).WithTelemetryEnabled(false), method);
        Assert.True(bugs > 0, "bare Coyote found no bug in 1000 iterations");
        Assert.Equal(0, uncontrolled);

        var (replayBugs, replayMessage, _, _) = RunBare(Configuration.Create().WithReproducibleTrace(trace).WithTelemetryEnabled(false), method);
        Assert.True(replayBugs > 0, "the trace did not reproduce the bug");
        Assert.Equal(message, replayMessage);
    }

    [Theory]
    [MemberData(nameof(FixedTests))]
    public void BareCoyotePassesTheFixedVariantAThousandIterationsWithNoUncontrolledCalls(string name)
    {
        var method = StockCatalog.Value.Tests.Single(t => t.ShortName == name).Method;

        var (bugs, message, _, uncontrolled) = RunBare(Configuration.Create().WithTestingIterations(1000).WithRandomGeneratorSeed(17).WithTelemetryEnabled(false), method);

        Assert.True(bugs == 0, message);
        Assert.Equal(0, uncontrolled);
    }

    /// <summary>A permit leaked on an exception path: the sentence says which exception ended the holder, thrown where.</summary>
    [Theory]
    [InlineData("NoFinallyBuggy", "IOException", "NoFinally.cs", "throw new IOException(")]
    [InlineData("CancelBeforeTryBuggy", "OperationCanceledException", "CancelBeforeTry.cs", "token.ThrowIfCancellationRequested();")]
    public void ALeakOnAnExceptionPathNamesTheExceptionAndItsLine(string name, string exception, string file, string code)
    {
        var source = File.ReadAllLines(Path.Combine(Paths.RepoRoot, "src", "Systematic.Catalog", "Patterns", file));
        var line = Array.FindIndex(source, l => l.Contains(code, StringComparison.Ordinal)) + 1;

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 300, Seed = 1, Minimize = false }).Run(catalog.Test(name), Paths.NewTempDir(name));

        Assert.Equal(FailureKind.Leak, outcome.Kind);
        Assert.Contains($"and finished, by an {exception} thrown at {file}:{line}, without releasing it", outcome.Diagnosis!.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryPatternHasABuggyAndAFixedVariantAndADescription()
    {
        var byPattern = catalog.Assembly.Tests.GroupBy(t => t.Method.DeclaringType!).ToList();

        Assert.True(byPattern.Count >= 11, $"only {byPattern.Count} patterns");
        foreach (var pattern in byPattern)
        {
            var info = pattern.First().Pattern;
            Assert.True(info is not null, $"{pattern.Key.Name} has no [Pattern]");
            Assert.False(string.IsNullOrWhiteSpace(info.Title) || string.IsNullOrWhiteSpace(info.Problem) || string.IsNullOrWhiteSpace(info.Cause) || string.IsNullOrWhiteSpace(info.Fix), $"{pattern.Key.Name}'s description is incomplete");
            var tests = pattern.ToList();
            Assert.Equal(2, tests.Count);
            var buggy = Assert.Single(tests, t => t.ShortName.EndsWith("Buggy", StringComparison.Ordinal));
            var fix = Assert.Single(tests, t => t.ShortName.EndsWith("Fixed", StringComparison.Ordinal));
            Assert.NotNull(buggy.Expected);
            Assert.Null(fix.Expected);
            Assert.Equal(buggy.ShortName[..^"Buggy".Length], fix.ShortName[..^"Fixed".Length]);
        }
    }

    /// <summary>The catalog as built (rewritten by Coyote, not instrumented), loaded in a context of its own.</summary>
    private static readonly Lazy<PreparedAssemblyView> StockCatalog = new(() => PreparedAssemblyView.LoadPlain(Paths.Catalog));

    private static (int Bugs, string Message, string Trace, int Uncontrolled) RunBare(Configuration configuration, System.Reflection.MethodInfo method)
    {
        using var engine = TestRunner.CreateEngine(configuration, method);
        engine.Run();
        var report = engine.TestReport;
        return (report.NumOfFoundBugs, report.BugReports.FirstOrDefault() ?? "", engine.ReproducibleTrace, report.UncontrolledInvocations.Count);
    }

    private static TheoryData<string> Names(bool buggy)
    {
        using var module = ModuleDefinition.ReadModule(Paths.Catalog);
        var data = new TheoryData<string>();
        foreach (var method in module.GetTypes().SelectMany(t => t.Methods)
            .Where(m => m.CustomAttributes.Any(a => a.AttributeType.Name == "TestAttribute") && m.Name.EndsWith(buggy ? "Buggy" : "Fixed", StringComparison.Ordinal)))
        {
            data.Add(method.Name);
        }

        return data;
    }
}
