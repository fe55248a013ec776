using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>The parts of a run, over hand-built outcomes and folders: no engine, no worker, milliseconds each.</summary>
[Trait("Tier", "Fast")]
public sealed class RunPartsTests
{
    [Fact]
    public void AFailureFolderKeptFromASecondPartTakesTheTestsNameBackWithItsReplayCommands()
    {
        var run = Directory.CreateTempSubdirectory("systematic-run-").FullName;
        try
        {
            // Two parts of one test found the bug: the first made Ledger.Post, the second Ledger.Post-2, which the merge keeps.
            var first = RunFolder.Unique(run, "Ledger.Post");
            var second = RunFolder.Unique(run, "Ledger.Post");
            Assert.Equal(first + "-2", second);
            File.WriteAllText(Path.Combine(second, "failure.json"), $$"""{ "replay": { "systematic": "systematic replay {{second}}" } }""");
            File.WriteAllText(Path.Combine(second, "report.md"), $"systematic replay {second}\ncoyote replay a.dll {second}/failure.trace -m Ledger.Post");
            File.WriteAllText(Path.Combine(second, "failure.trace"), "{}");
            Directory.Delete(first);

            var kept = RunFolder.Reclaim(second);

            Assert.Equal(first, kept);
            Assert.False(Directory.Exists(second));
            Assert.Equal($$"""{ "replay": { "systematic": "systematic replay {{first}}" } }""", File.ReadAllText(Path.Combine(first, "failure.json")));
            Assert.Equal($"systematic replay {first}\ncoyote replay a.dll {first}/failure.trace -m Ledger.Post", File.ReadAllText(Path.Combine(first, "report.md")));
            Assert.Equal(first, RunFolder.Reclaim(first));
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }

    [Fact]
    public void MergingAWorkersPartsKeepsTheFirstBugAddsIterationsAndPoolsUncontrolledCalls()
    {
        TestOutcome[] parts =
        [
            Part(Outcome.Passed, 100, 2, ["b"]),
            Part(Outcome.Bug, 40, 1, ["a", "b"]) with { ReportDir = "first" },
            Part(Outcome.Bug, 60, 3, []) with { ReportDir = "second" },
        ];

        var merged = OutcomeMerge.Of(parts);

        Assert.Equal(Outcome.Bug, merged.Outcome);
        Assert.Equal("first", merged.ReportDir);
        Assert.Equal(200, merged.Iterations);
        Assert.Equal(TimeSpan.FromSeconds(3), merged.Elapsed);
        Assert.Equal(["a", "b"], merged.Uncontrolled);
        Assert.Equal(3, merged.Workers.Count);
    }

    [Fact]
    public void MergingShardsLetsAnErrorSpeakForTheTestAndASingleLineStaysAsItIs()
    {
        SummaryTest[] parts = [Line(Outcome.Bug, 10, 1.5, ["x"]), Line(Outcome.Error, 5, 0.5, []), Line(Outcome.Passed, 20, 2.5, ["w", "x"])];

        var merged = OutcomeMerge.Of(parts);
        var single = OutcomeMerge.Of([parts[0]]);

        Assert.Equal(Outcome.Error, merged.Outcome);
        Assert.Equal(35, merged.Iterations);
        Assert.Equal(2.5, merged.Seconds);
        Assert.Equal(["w", "x"], merged.Uncontrolled);
        Assert.Null(merged.Workers);
        Assert.Same(parts[0], single);
    }

    [Fact]
    public void ARunFolderIsFreshItsLatestIsFoundAndFailureFoldersGetUniqueNames()
    {
        var outDir = Paths.NewTempDir("runfolder");

        var (first, firstDir) = RunFolder.Create(outDir);
        var (second, _) = RunFolder.Create(outDir);
        RunFolder.PointLatest(outDir, first);
        File.WriteAllText(Path.Combine(firstDir, SummaryDocument.FileName), "{}");
        var a = RunFolder.Unique(firstDir, "Test.Method");
        var b = RunFolder.Unique(firstDir, "Test.Method");

        Assert.NotEqual(first, second);
        Assert.True(File.Exists(Path.Combine(RunFolder.Resolve(outDir, SummaryDocument.FileName), SummaryDocument.FileName)));
        Assert.Equal(firstDir, RunFolder.Resolve(firstDir, SummaryDocument.FileName));
        Assert.Equal("Test.Method", Path.GetFileName(a));
        Assert.Equal("Test.Method-2", Path.GetFileName(b));
    }

    [Fact]
    public void TheMarkdownSummaryHasOneRowPerTestAndListsTheDiagnoses()
    {
        var summary = new SummaryDocument
        {
            Run = "20250101-000000-abcd",
            Options = new SummaryOptions(10, "portfolio", null, 1, null, null, null),
            Tests = [Line(Outcome.Bug, 10, 1.5, []) with { ExpectationMet = true, Kind = FailureKind.Leak, Expected = FailureKind.Leak, ReportDir = "Leaky.Test", Diagnosis = "A permit leaked" }, Line(Outcome.Passed, 10, 0.25, [])],
        };

        var md = SummaryMarkdown.Render(summary);

        Assert.Contains("2 tests as expected.", md, StringComparison.Ordinal);
        Assert.Contains("| `T` | ✅ bug | Leak | Leak |", md, StringComparison.Ordinal);
        Assert.Contains("[report](Leaky.Test/report.md)", md, StringComparison.Ordinal);
        Assert.Contains("## Diagnoses", md, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSummaryAndTheBaselinePeopleCommitKeepBackticksAndNonAsciiAsWritten()
    {
        var runDir = Paths.NewTempDir("relaxed-json");
        var baselineFile = Path.Combine(Paths.NewTempDir("relaxed-baseline"), Baseline.DefaultFile);
        var summary = new SummaryDocument
        {
            Run = "20250101-000000-abcd",
            Options = new SummaryOptions(10, "portfolio", null, 1, null, null, null),
            Tests = [Line(Outcome.Bug, 10, 1.5, []) with { Kind = FailureKind.Leak, Diagnosis = "Task `Worker#1` ends holding `pool` → a leak" }],
        };

        summary.Write(runDir);
        Baseline.Update(baselineFile, runDir);

        foreach (var text in new[] { File.ReadAllText(Path.Combine(runDir, SummaryDocument.FileName)), File.ReadAllText(baselineFile) })
        {
            Assert.Contains("Task `Worker#1` ends holding `pool` → a leak", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\\u", text, StringComparison.Ordinal);
        }
    }

    private static TestOutcome Part(Outcome outcome, long iterations, int seconds, string[] uncontrolled) => new()
    {
        Test = "T",
        Outcome = outcome,
        Iterations = iterations,
        Elapsed = TimeSpan.FromSeconds(seconds),
        Uncontrolled = uncontrolled,
        Workers = [new WorkerRun(1, iterations, TimeSpan.FromSeconds(seconds), [0])],
    };

    private static SummaryTest Line(Outcome outcome, long iterations, double seconds, string[] uncontrolled) =>
        new("T", outcome, false, null, null, outcome == Outcome.Passed, iterations, null, 1, "portfolio", seconds, null, null, uncontrolled, null);
}
