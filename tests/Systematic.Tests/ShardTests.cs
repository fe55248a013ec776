using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Sharded runs merged into one, and a baseline that accepts known findings so only new ones fail the gate.</summary>
[Collection("engine")]
public sealed class ShardTests
{
    [Fact]
    public void TwoShardsCoverEveryTestOnceAndMergeIntoOneRunWithTheirFailureFolders()
    {
        var shards = Enumerable.Range(1, 2).Select(i => Paths.NewTempDir($"shard{i}")).ToList();
        var codes = shards.Select((dir, i) => CliTests.Run("test", "--filter", "NoFinally|LockOrder", "-i", "200", "--seed", "3", "--shard", $"{i + 1}/2", "-o", dir).Code).ToList();
        var merged = Paths.NewTempDir("merged");

        var (code, output, error) = CliTests.Run(["merge", .. shards, "-o", merged]);

        Assert.All(codes, c => Assert.Equal(ExitCode.Success, c));
        Assert.True(code == ExitCode.Success, output + error);
        var perShard = shards.Select(dir => SummaryDocument.Read(dir).Summary.Tests.Select(t => t.Test).ToList()).ToList();
        Assert.Empty(perShard[0].Intersect(perShard[1]));
        var (runDir, summary) = SummaryDocument.Read(merged);
        Assert.Equal(perShard.SelectMany(t => t).Order(StringComparer.Ordinal), summary.Tests.Select(t => t.Test).Order(StringComparer.Ordinal));
        Assert.Equal(4, summary.Tests.Count);
        Assert.Equal(ExitCode.Success, summary.ExitCode);
        foreach (var failed in summary.Tests.Where(t => t.ReportDir is not null))
        {
            Assert.True(Replayer.Replay(Path.Combine(runDir, failed.ReportDir!)).Reproduced, failed.Test);
        }

        foreach (var file in new[] { RunReports.JUnitFile, RunReports.SarifFile, RunReports.HtmlFile, "summary.md" })
        {
            Assert.True(File.Exists(Path.Combine(runDir, file)), file);
        }
    }

    [Fact]
    public void ABaselineAcceptsTheBugsOfARunSoTheyNoLongerFailItButANewOneStillDoes()
    {
        var first = Paths.NewTempDir("baseline-run");
        var file = Path.Combine(Paths.NewTempDir("baseline"), Baseline.DefaultFile);
        Assert.Equal(ExitCode.BugFound, CliTests.Run("test", Paths.UserCode, "--filter", "PooledConnectionLeakBuggy", "-i", "200", "--seed", "1", "-o", first).Code);

        var (code, output, _) = CliTests.Run("baseline", "--file", file, "-o", first);
        var accepted = Baseline.Read(file);
        var gated = CliTests.Run("test", Paths.UserCode, "--filter", "PooledConnectionLeakBuggy", "-i", "200", "--seed", "1", "-o", first, "--baseline", file).Code;
        var other = CliTests.Run("test", Paths.UserCode, "--filter", "TransferCycleBuggy", "-i", "1000", "--seed", "1", "-o", first, "--baseline", file).Code;

        Assert.Equal(ExitCode.Success, code);
        Assert.Contains("1 new", output, StringComparison.Ordinal);
        var finding = Assert.Single(accepted.Accepted);
        Assert.EndsWith("PooledConnectionLeakBuggy", finding.Test, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Leak, finding.Kind);
        Assert.Equal(ExitCode.Success, gated);
        Assert.Equal(ExitCode.BugFound, other);
    }

    [Fact]
    public void ACorruptSummaryIsABadInputForMergeAndBaselineWithAOneLineError()
    {
        var run = Paths.NewTempDir("corrupt");
        File.WriteAllText(Path.Combine(run, "summary.json"), "{ \"schema\": \"systematic.summary/1\", \"tests\": [");

        var merge = CliTests.Run("merge", run, "-o", Paths.NewTempDir("merged"));
        var baseline = CliTests.Run("baseline", run, "--file", Path.Combine(Paths.NewTempDir("baseline"), Baseline.DefaultFile));

        foreach (var (code, _, error) in new[] { merge, baseline })
        {
            Assert.Equal(ExitCode.InputError, code);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains("not a valid summary", line, StringComparison.Ordinal);
        }
    }
}
