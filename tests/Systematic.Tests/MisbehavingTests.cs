using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Tests that spin, block on uncontrolled primitives or take their process down are each reported as a failure of that test, within its budget, and the run goes on.</summary>
[Collection("engine")]
public sealed class MisbehavingTests
{
    [Fact]
    public void EachMisbehavingTestIsReportedWithinItsBudgetAndTheOthersStillRun()
    {
        var outdir = Paths.NewTempDir("misbehaving");
        var budget = new ExplorationOptions { Timeout = TimeSpan.FromSeconds(5) }.WorkerBudget;

        var (code, _, _) = CliTests.Run("test", Paths.Misbehaving, "-t", "5", "-i", "100", "--seed", "1", "-o", outdir);

        Assert.Equal(ExitCode.BugFound, code);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outdir, "latest", "summary.json")));
        var tests = summary.RootElement.GetProperty("tests").EnumerateArray()
            .ToDictionary(t => t.GetProperty("test").GetString()!.Split('.')[^1], t => t);
        Assert.Equal(8, tests.Count);
        Assert.Equal("Hang", tests["SpinsWithoutSchedulingPoint"].GetProperty("kind").GetString());
        Assert.Equal("Hang", tests["SpinsThroughControlledCalls"].GetProperty("kind").GetString());
        // Blocked in ManualResetEventSlim.Wait, which Coyote does not control: no verdict on the code, the call named.
        Assert.Equal("Uncontrolled", tests["BlocksOnUncontrolledEvent"].GetProperty("kind").GetString());
        // The finalizer thread crashes the process unless Coyote's 1 s watchdog sees the blocked GC wait first.
        Assert.Contains(tests["ThrowsFromFinalizer"].GetProperty("kind").GetString(), new[] { "Crashed", "Hang" });
        Assert.Equal("Crashed", tests["CallsEnvironmentExit"].GetProperty("kind").GetString());
        Assert.Equal("Crashed", tests["OverflowsTheStack"].GetProperty("kind").GetString());
        Assert.Equal("UnhandledException", tests["ThrowsHostileMessage"].GetProperty("kind").GetString());
        Assert.Equal("passed", tests["PassesAfterTheOthers"].GetProperty("outcome").GetString());
        Assert.Equal(100, tests["PassesAfterTheOthers"].GetProperty("iterations").GetInt64());
        Assert.All(tests.Values, t => Assert.True(t.GetProperty("seconds").GetDouble() <= budget.TotalSeconds, $"{t.GetProperty("test")} held the run {t.GetProperty("seconds")} s"));
    }

    [Fact]
    public void HostileExceptionMessageIsEscapedInTheReport()
    {
        var outdir = Paths.NewTempDir("hostile");

        CliTests.Run("test", Paths.Misbehaving, "--filter", "ThrowsHostileMessage", "-i", "10", "-o", outdir);

        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(outdir, "latest")));
        Assert.StartsWith(Path.GetFullPath(Path.Combine(outdir, "latest")), Path.GetFullPath(folder), StringComparison.Ordinal);
        var markdown = File.ReadAllText(Path.Combine(folder, FailureReport.MarkdownFile));
        var outsideCode = string.Join('\n', markdown.Split("```").Where((_, i) => i % 2 == 0));
        Assert.DoesNotContain("<script>", outsideCode, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", outsideCode, StringComparison.Ordinal);
        Assert.DoesNotContain('\u0007', markdown);
        using var failure = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, FailureReport.JsonFile)));
        Assert.Contains("<script>", failure.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
