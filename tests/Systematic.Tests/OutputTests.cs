using System.Diagnostics;
using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Report folders: an unusable one is refused up front, and concurrent runs never clobber each other.</summary>
[Collection("engine")]
public sealed class OutputTests
{
    [Fact]
    public void UnwritableReportFolderIsRefusedWithItsPathBeforeAnyTestRuns()
    {
        var dir = Paths.NewTempDir("unwritable");
        var blocker = Path.Combine(dir, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var outdir = Path.Combine(blocker, "reports");

        var (code, output, error) = CliTests.Run("test", "--filter", "NoFinallyBuggy", "-o", outdir);

        Assert.Equal(ExitCode.InputError, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(outdir, line, StringComparison.Ordinal);
        Assert.DoesNotContain("ok   [", output, StringComparison.Ordinal);
        Assert.Equal("not a folder", File.ReadAllText(blocker));
    }

    [Fact]
    public async Task TwoRunsIntoTheSameFolderAtOnceKeepBothRunsComplete()
    {
        var outdir = Paths.NewTempDir("concurrent");

        var runs = Enumerable.Range(0, 2).Select(i => Task.Run(() => RunProcess("test", "--filter", "NoFinally|EarlyReturn", "-i", "200", "--seed", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--workers", "1", "-o", outdir))).ToArray();
        var exits = await Task.WhenAll(runs);

        Assert.All(exits, exit => Assert.Equal(0, exit));
        var folders = Directory.GetDirectories(outdir).Where(d => !Path.GetFileName(d).StartsWith('.') && Path.GetFileName(d) != "latest").ToList();
        Assert.Equal(2, folders.Count);
        foreach (var folder in folders)
        {
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
            Assert.Equal(4, summary.RootElement.GetProperty("tests").GetArrayLength());
            Assert.NotEqual(JsonValueKind.Null, summary.RootElement.GetProperty("finished").ValueKind);
            foreach (var test in summary.RootElement.GetProperty("tests").EnumerateArray().Where(t => t.TryGetProperty("reportDir", out _)))
            {
                Assert.True(File.Exists(Path.Combine(folder, test.GetProperty("reportDir").GetString()!, FailureReport.TraceFile)));
            }
        }

        Assert.Contains(Path.GetFileName(new DirectoryInfo(Path.Combine(outdir, "latest")).LinkTarget), folders.Select(Path.GetFileName));
    }

    private static int RunProcess(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "systematic.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return process.ExitCode;
    }
}
