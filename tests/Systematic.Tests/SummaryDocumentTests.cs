using System.Xml.Linq;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary><c>summary.json</c> with typed outcomes, over hand-built documents: the same text as before, old files read, the verdict; no engine, milliseconds each.</summary>
[Trait("Tier", "Fast")]
public sealed class SummaryDocumentTests
{
    /// <summary>A summary as builds before typed outcomes wrote it (the words of every outcome and expectation, a kind left out when none).</summary>
    private const string OldStyle = """
        {
          "schema": "systematic.summary/1",
          "run": "20250101-000000-abcd",
          "started": "2025-01-01T00:00:00+00:00",
          "finished": "2025-01-01T00:01:00+00:00",
          "interrupted": false,
          "exitCode": "InternalError",
          "options": {
            "iterations": 100,
            "strategy": "portfolio",
            "seed": 1
          },
          "assemblies": [],
          "tests": [
            {
              "test": "Shop.Orders.TransferBuggy",
              "outcome": "bug",
              "accepted": false,
              "kind": "LockOrderDeadlock",
              "expected": "LockOrderDeadlock",
              "expectationMet": true,
              "iterations": 3,
              "firstBugIteration": 3,
              "seed": 1,
              "strategy": "portfolio",
              "seconds": 0.25,
              "reportDir": "Orders.TransferBuggy",
              "diagnosis": "Task `A` waits for `b`, held by `B`, which waits for `a`: a lock-order cycle.",
              "uncontrolled": [],
              "preemptions": 2,
              "minimalPreemptions": 1
            },
            {
              "test": "Shop.Orders.TransferFixed",
              "outcome": "passed",
              "accepted": false,
              "expected": "pass",
              "expectationMet": true,
              "iterations": 100,
              "seed": 1,
              "strategy": "portfolio",
              "seconds": 1.5,
              "uncontrolled": []
            },
            {
              "test": "Shop.Pool.Rent",
              "outcome": "bug",
              "accepted": false,
              "kind": "Leak",
              "expected": "pass",
              "expectationMet": false,
              "iterations": 7,
              "firstBugIteration": 7,
              "seed": 1,
              "strategy": "portfolio",
              "seconds": 0.5,
              "reportDir": "Pool.Rent",
              "diagnosis": "Task `Rent` took `pool` and finished without releasing it: a leaked permit.",
              "uncontrolled": []
            },
            {
              "test": "Shop.Pool.RentDeclared",
              "outcome": "passed",
              "accepted": false,
              "expected": "Leak",
              "expectationMet": false,
              "iterations": 100,
              "seed": 1,
              "strategy": "portfolio",
              "seconds": 2,
              "uncontrolled": []
            },
            {
              "test": "Shop.Broken.Load",
              "outcome": "error",
              "accepted": false,
              "expected": "pass",
              "expectationMet": false,
              "iterations": 0,
              "seed": 1,
              "strategy": "portfolio",
              "seconds": 0,
              "uncontrolled": [],
              "error": "TypeLoadException: Shop.Broken could not be loaded"
            },
            {
              "test": "Shop.Timers.Tick",
              "outcome": "bug",
              "accepted": false,
              "kind": "Uncontrolled",
              "expected": "pass",
              "expectationMet": false,
              "iterations": 1,
              "firstBugIteration": 1,
              "seed": 1,
              "strategy": "portfolio",
              "seconds": 0.125,
              "uncontrolled": [
                "System.Threading.Timer..ctor"
              ]
            }
          ]
        }
        """;

    [Fact]
    public void AnOldStyleSummaryIsReadAsTypedOutcomesAndKinds()
    {
        var run = OldStyleRun("old-style");

        var (_, summary) = SummaryDocument.Read(run);

        Assert.Equal([Outcome.Bug, Outcome.Passed, Outcome.Bug, Outcome.Passed, Outcome.Error, Outcome.Bug], summary.Tests.Select(t => t.Outcome));
        Assert.Equal([FailureKind.LockOrderDeadlock, null, FailureKind.Leak, null, null, FailureKind.Uncontrolled], summary.Tests.Select(t => t.Kind));
        Assert.Equal([FailureKind.LockOrderDeadlock, null, null, FailureKind.Leak, null, null], summary.Tests.Select(t => t.Expected));
        Assert.Equal(ExitCode.InternalError, summary.ExitCode);
    }

    [Fact]
    public void AnOldStyleSummaryIsWrittenBackWithTheSameText()
    {
        var run = OldStyleRun("old-style-round-trip");
        var (_, summary) = SummaryDocument.Read(run);
        var rewritten = Paths.NewTempDir("old-style-rewritten");

        summary.Write(rewritten);

        Assert.Equal(Lines(OldStyle), Lines(File.ReadAllText(Path.Combine(rewritten, SummaryDocument.FileName))));
    }

    [Fact]
    public void AHandBuiltSummaryRoundTripsWithTheSameTextAndTheWordsOfBefore()
    {
        var first = Paths.NewTempDir("round-trip-1");
        var second = Paths.NewTempDir("round-trip-2");
        var summary = Document(
            Line(Outcome.Bug, kind: FailureKind.SelfDeadlock, expected: FailureKind.SelfDeadlock, met: true),
            Line(Outcome.Passed, met: true),
            Line(Outcome.Error) with { Error = "no such test" });

        summary.Write(first);
        var text = File.ReadAllText(Path.Combine(first, SummaryDocument.FileName));
        SummaryDocument.Read(first).Summary.Write(second);

        Assert.Equal(text, File.ReadAllText(Path.Combine(second, SummaryDocument.FileName)));
        Assert.Contains("\"outcome\": \"bug\",", text, StringComparison.Ordinal);
        Assert.Contains("\"outcome\": \"passed\",", text, StringComparison.Ordinal);
        Assert.Contains("\"outcome\": \"error\",", text, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"SelfDeadlock\",", text, StringComparison.Ordinal);
        Assert.Contains("\"expected\": \"SelfDeadlock\",", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split("\"expected\": \"pass\",").Length - 1);
        Assert.Single(text.Split('\n'), l => l.Contains("\"kind\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Bug")]
    [InlineData("failed")]
    [InlineData("1")]
    public void AnOutcomeThatIsNotOneOfTheWordsIsReadCaseInsensitivelyOrRejectedInOneLine(string word)
    {
        var run = Paths.NewTempDir("odd-outcome");
        File.WriteAllText(Path.Combine(run, SummaryDocument.FileName), OldStyle.Replace("\"outcome\": \"bug\"", $"\"outcome\": \"{word}\"", StringComparison.Ordinal));

        var read = Record.Exception(() => SummaryDocument.Read(run));

        if (word == "Bug")
        {
            Assert.Null(read);
        }
        else
        {
            var error = Assert.IsType<HarnessException>(read);
            Assert.Contains("is not a valid summary", error.Message, StringComparison.Ordinal);
            Assert.Contains($"\"{word}\" is not an outcome", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheVerdictOfAnOldStyleSummaryIsAnInternalErrorAndWithoutTheErrorABugFound()
    {
        var (_, summary) = SummaryDocument.Read(OldStyleRun("old-style-verdict"));

        var all = SummaryDocument.Verdict(summary.Tests, interrupted: false);
        var withoutError = SummaryDocument.Verdict(summary.Tests.Where(t => t.Outcome != Outcome.Error), interrupted: false);

        Assert.Equal(ExitCode.InternalError, all);
        Assert.Equal(ExitCode.BugFound, withoutError);
    }

    [Theory]
    [InlineData(Outcome.Passed, null, null, true, false, ExitCode.Success)]
    [InlineData(Outcome.Bug, FailureKind.Leak, FailureKind.Leak, true, false, ExitCode.Success)]
    [InlineData(Outcome.Bug, FailureKind.Leak, null, false, false, ExitCode.BugFound)]
    [InlineData(Outcome.Bug, FailureKind.Leak, null, true, true, ExitCode.Success)]
    [InlineData(Outcome.Bug, FailureKind.Leak, FailureKind.OverRelease, false, false, ExitCode.ExpectationNotMet)]
    [InlineData(Outcome.Passed, null, FailureKind.Leak, false, false, ExitCode.ExpectationNotMet)]
    [InlineData(Outcome.Bug, FailureKind.Uncontrolled, null, false, false, ExitCode.Untestable)]
    [InlineData(Outcome.Bug, FailureKind.Uncontrolled, null, true, true, ExitCode.Success)]
    [InlineData(Outcome.Error, null, null, false, false, ExitCode.InternalError)]
    internal void TheVerdictOfOneTestFollowsItsTypedOutcomeKindAndExpectation(Outcome outcome, FailureKind? kind, FailureKind? expected, bool met, bool accepted, ExitCode verdict)
    {
        var test = Line(outcome, kind, expected, met) with { Accepted = accepted };

        Assert.Equal(verdict, SummaryDocument.Verdict([test], interrupted: false));
        Assert.Equal(ExitCode.Interrupted, SummaryDocument.Verdict([test], interrupted: true));
    }

    [Fact]
    public void AnErrorOutranksABugAndABugOutranksAnUntestableTestAndAMissedExpectation()
    {
        var bug = Line(Outcome.Bug, FailureKind.Leak);
        var untestable = Line(Outcome.Bug, FailureKind.Uncontrolled);
        var missed = Line(Outcome.Passed, expected: FailureKind.Leak);

        Assert.Equal(ExitCode.InternalError, SummaryDocument.Verdict([missed, untestable, bug, Line(Outcome.Error)], interrupted: false));
        Assert.Equal(ExitCode.BugFound, SummaryDocument.Verdict([missed, untestable, bug], interrupted: false));
        Assert.Equal(ExitCode.Untestable, SummaryDocument.Verdict([missed, untestable], interrupted: false));
    }

    [Fact]
    public void ALineFromAnOutcomeKeepsItsTypesAndTheVerdictOfARunIsTheSame()
    {
        var outcome = new TestOutcome { Test = "T", Outcome = Outcome.Bug, Kind = FailureKind.Leak, Expected = FailureKind.Leak, Elapsed = TimeSpan.FromSeconds(1) };
        var missed = new TestOutcome { Test = "U", Outcome = Outcome.Passed, Expected = FailureKind.Hang };

        var line = SummaryTest.From(outcome, Paths.NewTempDir("from-outcome"));
        var result = new RunResult("run", Paths.NewTempDir("run-result"), [outcome, missed], [], Interrupted: false, TimeSpan.Zero);

        Assert.Equal((Outcome.Bug, FailureKind.Leak, FailureKind.Leak, true), (line.Outcome, line.Kind, line.Expected, line.ExpectationMet));
        Assert.Equal(ExitCode.ExpectationNotMet, result.ExitCode);
    }

    [Fact]
    public void TheBaselineOfAnOldStyleSummaryAcceptsItsUnexpectedBugsByKind()
    {
        var file = Path.Combine(Paths.NewTempDir("old-style-baseline"), Baseline.DefaultFile);

        var (baseline, added) = Baseline.Update(file, OldStyleRun("old-style-baselined"));

        Assert.Equal(2, added);
        Assert.Equal([("Shop.Pool.Rent", FailureKind.Leak), ("Shop.Timers.Tick", FailureKind.Uncontrolled)], baseline.Accepted.Select(a => (a.Test, a.Kind)));
        Assert.True(Baseline.Read(file).Accepts("Shop.Pool.Rent", FailureKind.Leak));
    }

    [Fact]
    public void MergingOldStyleShardsKeepsTheirWordsAndGivesTheVerdict()
    {
        var outDir = Paths.NewTempDir("old-style-merged");

        var (runDir, merged) = RunMerger.Merge([OldStyleRun("old-style-shard-1"), OldStyleRun("old-style-shard-2")], outDir);

        Assert.Equal(6, merged.Tests.Count);
        Assert.Equal(ExitCode.InternalError, merged.ExitCode);
        Assert.Equal(Outcome.Error, merged.Tests.Single(t => t.Test == "Shop.Broken.Load").Outcome);
        Assert.Equal(200, merged.Tests.Single(t => t.Test == "Shop.Orders.TransferFixed").Iterations);
        var text = File.ReadAllText(Path.Combine(runDir, SummaryDocument.FileName));
        Assert.Equal(3, text.Split("\"outcome\": \"bug\",").Length - 1);
        Assert.Contains("\"expected\": \"Leak\",", text, StringComparison.Ordinal);
    }

    [Fact]
    public void JUnitAndSarifNameKindsAndExpectationsInTheWordsOfBefore()
    {
        var summary = Document(
            Line(Outcome.Passed, expected: FailureKind.Leak),
            Line(Outcome.Bug, FailureKind.OverRelease) with { Test = "S.Over", Diagnosis = "too many releases" },
            Line(Outcome.Error) with { Test = "S.Broken", Error = "gone" });

        var junit = XDocument.Parse(JUnitReport.Render(summary, new Dictionary<string, FailureDocument>()));
        var sarif = SarifReport.Render(summary, new Dictionary<string, FailureDocument>());

        var cases = junit.Descendants("testcase").ToList();
        Assert.Equal("ExpectationNotMet", (string?)cases[0].Element("failure")?.Attribute("type"));
        Assert.Contains("Kind: none; expected: Leak", (string?)cases[0].Element("failure"), StringComparison.Ordinal);
        Assert.Equal("OverRelease", (string?)cases[1].Element("failure")?.Attribute("type"));
        Assert.Contains("Kind: OverRelease; expected: pass", (string?)cases[1].Element("failure"), StringComparison.Ordinal);
        Assert.Equal("HarnessError", (string?)cases[2].Element("error")?.Attribute("type"));
        Assert.Equal("1", (string?)junit.Root!.Attribute("errors"));
        Assert.Equal("2", (string?)junit.Root!.Attribute("failures"));
        Assert.Contains("\"ruleId\": \"OverRelease\"", sarif, StringComparison.Ordinal);
        Assert.Contains("\"expected\": \"pass\"", sarif, StringComparison.Ordinal);
    }

    private static string OldStyleRun(string name)
    {
        var run = Paths.NewTempDir(name);
        File.WriteAllText(Path.Combine(run, SummaryDocument.FileName), OldStyle);
        return run;
    }

    private static string[] Lines(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    private static SummaryDocument Document(params SummaryTest[] tests) => new()
    {
        Run = "20250101-000000-abcd",
        Started = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero),
        Options = new SummaryOptions(10, "portfolio", null, 1, null, null, null),
        Tests = tests,
        ExitCode = SummaryDocument.Verdict(tests, interrupted: false),
    };

    private static SummaryTest Line(Outcome outcome, FailureKind? kind = null, FailureKind? expected = null, bool met = false) =>
        new("T.Test", outcome, false, kind, expected, met, 10, outcome == Outcome.Bug ? 1 : null, 1, "portfolio", 0.5, null, null, [], null);
}
