using System.Diagnostics;
using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Ctrl-C in the middle of a run: what was found keeps a complete, replayable report; the run is recorded as interrupted.</summary>
[Collection("engine")]
public sealed class InterruptionTests
{
    /// <param name="wholeGroup">Signal the run's whole process group, workers included, as Ctrl-C on a terminal does; else the parent only.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InterruptKeepsEveryFailureFoundSoFarAndRecordsTheRunAsInterrupted(bool wholeGroup)
    {
        var outdir = Paths.NewTempDir("interrupt");

        // setsid makes the run the leader of a process group of its own (it execs in place: same process id). env
        // restores Ctrl-C's default action, which a test host started as a background job inherits as ignored.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--default-signal=INT");
        if (wholeGroup)
        {
            start.ArgumentList.Add("setsid");
        }

        start.ArgumentList.Add("dotnet");

        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "systematic.dll"), "test", "--filter", "NoFinally", "-i", "500000", "--seed", "5", "--workers", "2", "-o", outdir })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["CI"] = "true";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            lines.Add(line);
            if (line.Contains("NoFinally.NoFinallyBuggy: bug", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.NotNull(line);
        var target = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var kill = Process.Start("kill", wholeGroup ? ["-INT", "--", "-" + target] : ["-INT", target]))
        {
            kill.WaitForExit();
        }

        var rest = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the run did not stop after Ctrl-C");

        Assert.True((int)ExitCode.Interrupted == process.ExitCode, $"exit {process.ExitCode}: {string.Join('\n', lines)}{await rest}{await stderr}");
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outdir, "latest", "summary.json")));
        Assert.True(summary.RootElement.GetProperty("interrupted").GetBoolean());
        var tests = summary.RootElement.GetProperty("tests").EnumerateArray().ToList();

        // A worker asked to stop twice (SIGINT from the terminal, SIGTERM from the parent) still finishes its test.
        Assert.DoesNotContain(tests, t => t.TryGetProperty("kind", out var kind) && kind.GetString() == "Crashed");
        var buggy = tests.Single(t => t.GetProperty("test").GetString()!.EndsWith("NoFinallyBuggy", StringComparison.Ordinal));
        var folder = Path.Combine(outdir, "latest", buggy.GetProperty("reportDir").GetString()!);
        foreach (var file in new[] { FailureReport.TraceFile, FailureReport.JsonFile, FailureReport.MarkdownFile })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} missing after the interrupt");
        }

        Assert.True(Replayer.Replay(folder).Reproduced);
        var fixedTest = tests.SingleOrDefault(t => t.GetProperty("test").GetString()!.EndsWith("NoFinallyFixed", StringComparison.Ordinal));
        if (fixedTest.ValueKind == JsonValueKind.Object)
        {
            Assert.True(fixedTest.GetProperty("iterations").GetInt64() < 500_000, "the interrupted test ran to its end");
        }
    }
}
