using Systematic.Harness.Reports;
using Systematic.Harness;
using Systematic.Instrumentation;

namespace Systematic.Tests;

/// <summary>The doctor finds every uncontrolled call planted in a sample, at its line, and nothing in clean code.</summary>
public sealed class DoctorTests
{
    private static readonly string Source = Path.Combine(Paths.RepoRoot, "tests", "Samples.Uncontrolled", "UncontrolledTests.cs");

    [Theory]
    [InlineData("Task.WhenEach", "Task.WhenEach(", 0)]
    [InlineData("ReaderWriterLockSlim.EnterWriteLock", "_cacheLock.EnterWriteLock();", 0)]
    [InlineData("new ManualResetEventSlim", "new ManualResetEventSlim(false)", 0)]
    [InlineData("Parallel.ForEachAsync", "Parallel.ForEachAsync(", 0)]
    [InlineData("SemaphoreSlim.AvailableWaitHandle", "AvailableWaitHandle.WaitOne()", 0)]
    [InlineData("System.Threading.Timer", "new Timer(", 0)]
    [InlineData("ThreadPool.QueueUserWorkItem", "ThreadPool.QueueUserWorkItem(", 0)]
    [InlineData("static SemaphoreSlim UncontrolledTests.SharedGate", "SemaphoreSlim SharedGate", 0)]
    public void EveryPlantedUncontrolledCallIsFoundAtItsLine(string api, string code, int linesAfter)
    {
        var line = Array.FindIndex(File.ReadAllLines(Source), l => l.Contains(code, StringComparison.Ordinal) && !l.TrimStart().StartsWith("//", StringComparison.Ordinal)) + 1;
        Assert.True(line > 0, $"`{code}` is not in the sample");

        var findings = Doctor.Examine(Paths.Uncontrolled);

        Assert.Contains(findings, f => f.Api == api && f.Line >= line && f.Line <= line + linesAfter && f.File.EndsWith("UncontrolledTests.cs", StringComparison.Ordinal) && f.Alternative.Length > 0);
    }

    /// <summary>What Coyote 1.7.11 leaves uncontrolled on .NET 9+ and Systematic controls itself: no finding, and no uncontrolled call when it runs.</summary>
    [Theory]
    [InlineData("WhenAllSpanOverload")]
    [InlineData("WhenAnySpanOverload")]
    [InlineData("ThreadingLockCounter")]
    public void SpanOverloadsAndThreadingLockAreControlledBySystematic(string name)
    {
        var findings = Doctor.Examine(Paths.Uncontrolled);
        var prepared = PreparedAssembly.Prepare(Paths.Uncontrolled, Paths.NewTempDir("controlled"));

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 200, Seed = 1 }).Run(prepared.Tests.Single(t => t.ShortName == name), Paths.NewTempDir(name));

        Assert.DoesNotContain(findings, f => f.Method.Contains(name, StringComparison.Ordinal) || f.Api.Contains("ReadOnlySpan", StringComparison.Ordinal) || f.Api == "System.Threading.Lock");
        Assert.True(outcome.Outcome == Outcome.Passed, outcome.Diagnosis?.Sentence);
        Assert.Empty(outcome.Uncontrolled);
    }

    /// <summary>A run notes each uncontrolled call where it is made: the outcome lists it with its line, and its traces are not promised to replay.</summary>
    [Fact]
    public void AnUncontrolledCallIsListedWithItsLineWhenItRuns()
    {
        var line = Array.FindIndex(File.ReadAllLines(Source), l => l.Contains("_cacheLock.EnterWriteLock();", StringComparison.Ordinal)) + 1;
        var prepared = PreparedAssembly.Prepare(Paths.Uncontrolled, Paths.NewTempDir("noted"));

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 20, Seed = 1 }).Run(prepared.Tests.Single(t => t.ShortName == "ReaderWriterLockSlimCache"), Paths.NewTempDir("noted-run"));

        Assert.Contains($"ReaderWriterLockSlim.EnterWriteLock at UncontrolledTests.cs:{line}", outcome.Uncontrolled);
        Assert.DoesNotContain(outcome.Uncontrolled, u => u.StartsWith("System.Threading.ReaderWriterLockSlim.EnterWriteLock", StringComparison.Ordinal));
    }

    /// <summary>Coyote stopping a test over code it does not control is no bug: kind Uncontrolled, exit code 5, the cause named.</summary>
    [Fact]
    public void ThreadsCoyoteDidNotStartMakeATestUntestableNotBuggyAndTheRunSaysWhereTheyCameFrom()
    {
        var outdir = Paths.NewTempDir("untestable");

        var (code, output, _) = CliTests.Run("test", Paths.Uncontrolled, "--filter", "ParallelForEachWithSemaphore", "-i", "50", "--seed", "1", "-o", outdir);

        Assert.Equal(ExitCode.Untestable, code);
        Assert.Contains("a thread Coyote did not start called SemaphoreSlim.Wait; the thread comes from `Parallel.ForEachAsync` at UncontrolledTests.cs:", output, StringComparison.Ordinal);
        var folder = Directory.GetDirectories(Path.Combine(outdir, "latest"), "*ParallelForEachWithSemaphore*").Single();
        var failure = FailureReport.Read(folder);
        Assert.Equal(FailureKind.Uncontrolled, failure.Kind);
        Assert.False(failure.Reproducible);
        Assert.False(Replayer.Replay(folder).Reproduced);
    }

    [Fact]
    public void ASemaphoreFromAnEarlierIterationIsNamedAndTheTestIsUntestable()
    {
        var prepared = PreparedAssembly.Prepare(Paths.Uncontrolled, Paths.NewTempDir("static"));

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 20, Seed = 1 }).Run(prepared.Tests.Single(t => t.ShortName == "StaticSemaphoreAcrossIterations"), Paths.NewTempDir("static-run"));

        Assert.Equal(FailureKind.Uncontrolled, outcome.Kind);
        Assert.Equal(["UncontrolledTests.SharedGate"], outcome.Diagnosis!.Resources);
        Assert.Contains("was made before this iteration began", outcome.Diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlledLookAlikesAndCleanTestsHaveNoFinding()
    {
        var findings = Doctor.Examine(Paths.Uncontrolled);

        Assert.DoesNotContain(findings, f => f.Method.Contains("CleanFixed", StringComparison.Ordinal) || f.Method.Contains("WhenAnyTwoTasks", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCatalogAndTheUserSampleAreClean()
    {
        Assert.Empty(Doctor.Examine(Paths.Catalog));
        Assert.Empty(Doctor.Examine(Paths.UserCode));
    }

    [Fact]
    public void DoctorCommandExitsCleanForCleanCodeAndFlagsFindings()
    {
        Assert.Equal(ExitCode.Success, CliTests.Run("doctor", Paths.UserCode).Code);

        var (code, output, _) = CliTests.Run("doctor", Paths.Uncontrolled);

        Assert.Equal(ExitCode.ExpectationNotMet, code);
        Assert.Contains("UncontrolledTests.cs:", output, StringComparison.Ordinal);
        Assert.Equal(ExitCode.InputError, CliTests.Run("doctor", Path.Combine(Paths.RepoRoot, "missing.dll")).Code);
    }
}

/// <summary>The doctor over .NET 8+ idioms, read from this test assembly itself: no sample to build, milliseconds.</summary>
[Trait("Tier", "Fast")]
public sealed class DoctorIdiomTests
{
    [Fact]
    public void ATimeProviderDelayAndAStaticPerKeyLockTableAreListedAndTheirControlledTwinsAreNot()
    {
        var findings = Doctor.Examine(typeof(DoctorIdioms).Assembly.Location).Where(f => f.Method.StartsWith(nameof(DoctorIdioms), StringComparison.Ordinal)).ToList();

        Assert.Equal(
            ["static ConcurrentDictionary<string, SemaphoreSlim> DoctorIdioms.Locks", "Task.Delay with a TimeProvider"],
            findings.Select(f => f.Api));
        Assert.All(findings, f => Assert.EndsWith("DoctorTests.cs", f.File, StringComparison.Ordinal));
        Assert.All(findings, f => Assert.True(f.Line > 0));
    }
}

internal static class DoctorIdioms
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Locks = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Counts = new();

    public static int Held(string key) => Locks.TryGetValue(key, out var gate) ? gate.CurrentCount : Counts.GetValueOrDefault(key);

    public static Task WaitOnItsClock(TimeProvider time, CancellationToken cancellation) => Task.Delay(TimeSpan.FromMilliseconds(1), time, cancellation);

    public static Task WaitControlled(CancellationToken cancellation) => Task.Delay(TimeSpan.FromMilliseconds(1), cancellation);
}
