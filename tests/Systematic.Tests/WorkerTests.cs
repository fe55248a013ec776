using System.Text.Json;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Worker processes: one test's iterations split over several workers, and each worker on a CPU of its own.</summary>
[Collection("engine")]
public sealed class WorkerTests
{
    [Fact]
    public void OneWorkerPerCpuPinsEachToItsOwnCpuAndFewerWorkersStayUnpinned()
    {
        Assert.Equal([0, 1], CpuAffinity.Plan(2, [0, 1]));
        Assert.Equal([2, 5, 7], CpuAffinity.Plan(3, [2, 5, 7]));
        Assert.Null(CpuAffinity.Plan(1, [0, 1]));
        Assert.Null(CpuAffinity.Plan(2, [0, 1, 2, 3]));
        Assert.Null(CpuAffinity.Plan(3, [0, 1]));
        Assert.Null(CpuAffinity.Plan(1, [0]));
    }

    [Fact]
    public void ATestSplitOverWorkersRunsDistinctSeedsAddsUpIterationsAndPinsEveryThreadOfEachWorker()
    {
        var allowed = CpuAffinity.Allowed();
        var workers = Math.Max(2, allowed.Count);
        var (pinned, _) = Run("NoFinallyFixed", workers, "--seed", "11");
        var (roaming, _) = Run("NoFinallyFixed", workers, "--seed", "11", "--no-pin");

        foreach (var test in new[] { pinned, roaming })
        {
            Assert.Equal(workers * 100, test.GetProperty("iterations").GetInt64());
            var parts = test.GetProperty("workers").EnumerateArray().ToList();
            Assert.Equal(workers, parts.Count);
            Assert.Equal(workers, parts.Select(p => p.GetProperty("seed").GetUInt32()).Distinct().Count());
            Assert.All(parts, p => Assert.Equal(100, p.GetProperty("iterations").GetInt64()));
        }

        var pinnedCpus = Cpus(pinned);
        var roamingCpus = Cpus(roaming);
        Assert.All(roamingCpus, cpus => Assert.Equal(allowed, cpus));
        if (OperatingSystem.IsLinux() && allowed.Count >= 2)
        {
            // Read back from every thread of each worker, Coyote's operation threads included.
            Assert.All(pinnedCpus, cpus => Assert.Single(cpus));
            Assert.Equal(allowed, pinnedCpus.Select(c => c.Single()).Order());
        }
        else
        {
            Assert.Equal(roamingCpus, pinnedCpus);
        }
    }

    [Fact]
    public void AWorkerThatFindsTheBugDecidesTheOutcomeAndItsReportReplays()
    {
        var (test, runDir) = Run("NoFinallyBuggy", 2, "--seed", "4");

        Assert.Equal("Leak", test.GetProperty("kind").GetString());
        var parts = test.GetProperty("workers").EnumerateArray().ToList();
        Assert.Contains(test.GetProperty("seed").GetUInt32(), parts.Select(p => p.GetProperty("seed").GetUInt32()));
        var report = Path.Combine(runDir, test.GetProperty("reportDir").GetString()!);
        var (code, output, _) = CliTests.Run("replay", report);
        Assert.Equal(ExitCode.Success, code);
        Assert.StartsWith("Reproduced: Leak", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ALongLivedWorkerExploresTestAfterTest()
    {
        var outdir = Paths.NewTempDir("pool");

        // One worker for the whole catalog's NoFinally and LockOrder pairs: one process explores them all.
        var (code, output, error) = CliTests.Run("test", "--filter", "NoFinally|LockOrder", "-i", "50", "--seed", "2", "--workers", "1", "--no-minimize", "-o", outdir);

        Assert.True(code == ExitCode.Success, output + error);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outdir, "latest", "summary.json")));
        var processes = summary.RootElement.GetProperty("tests").EnumerateArray().SelectMany(t => t.GetProperty("workers").EnumerateArray()).Select(w => w.GetProperty("process").GetInt32()).ToList();
        Assert.Equal(4, processes.Count);
        Assert.Single(processes.Distinct());

        // A worker that crashes or hangs is replaced: MisbehavingTests has the test that passes after the others.
    }

    private static List<List<int>> Cpus(JsonElement test) =>
        test.GetProperty("workers").EnumerateArray().Select(p => p.GetProperty("cpus").EnumerateArray().Select(c => c.GetInt32()).ToList()).ToList();

    private static (JsonElement Test, string RunDir) Run(string test, int workers, params string[] extra)
    {
        var outdir = Paths.NewTempDir("workers");
        string[] args = ["test", "--filter", test, "-i", (workers * 100).ToString(System.Globalization.CultureInfo.InvariantCulture), "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-predict", "--no-minimize", "-o", outdir, .. extra];
        var (code, output, error) = CliTests.Run(args);
        Assert.True(code is ExitCode.Success, $"exit {code}: {output}{error}");
        var runDir = Path.Combine(outdir, "latest");
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")));
        return (summary.RootElement.GetProperty("tests").EnumerateArray().Single().Clone(), runDir);
    }
}
