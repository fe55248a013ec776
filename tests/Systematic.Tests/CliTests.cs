using System.Text.Json;
using Systematic.Cli;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>The command line: exit codes, listing, summary files, and a clear one-line error for every kind of bad input.</summary>
[Collection("engine")]
public sealed class CliTests
{
    [Fact]
    public void ListShowsEveryCatalogTestWithItsExpectedOutcomeAndDescription()
    {
        var (code, output, _) = Run("list", "-o", Paths.NewTempDir("list"));

        Assert.Equal(ExitCode.Success, code);
        Assert.Contains("Systematic.Catalog.Patterns.NoFinally.NoFinallyBuggy", output, StringComparison.Ordinal);
        Assert.Contains("fails: Leak", output, StringComparison.Ordinal);
        Assert.Contains("Release not in finally", output, StringComparison.Ordinal);
        Assert.Contains("passes", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CaughtBuggyVariantMeetsItsExpectationAndWritesSummaryAndReport()
    {
        var outdir = Paths.NewTempDir("cli");

        var (code, output, _) = Run("test", "--filter", "NoFinally", "-i", "300", "--seed", "3", "-o", outdir);

        Assert.Equal(ExitCode.Success, code);
        Assert.Contains("Written:", output, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outdir, "latest", "summary.json")));
        Assert.Equal(SummaryDocument.CurrentSchema, summary.RootElement.GetProperty("schema").GetString());
        var tests = summary.RootElement.GetProperty("tests").EnumerateArray().ToList();
        Assert.Equal(2, tests.Count);
        var buggy = tests.Single(t => t.GetProperty("test").GetString()!.EndsWith("Buggy", StringComparison.Ordinal));
        Assert.Equal("bug", buggy.GetProperty("outcome").GetString());
        Assert.Equal("Leak", buggy.GetProperty("kind").GetString());
        Assert.Equal("Leak", buggy.GetProperty("expected").GetString());
        Assert.Equal(3u, buggy.GetProperty("seed").GetUInt32());
        Assert.True(buggy.GetProperty("firstBugIteration").GetInt64() >= 1);
        var reportDir = Path.Combine(outdir, "latest", buggy.GetProperty("reportDir").GetString()!);
        Assert.True(File.Exists(Path.Combine(reportDir, "report.md")));
        Assert.True(File.Exists(Path.Combine(reportDir, "failure.trace")));

        var (replayCode, replayOutput, _) = Run("replay", reportDir);
        Assert.Equal(ExitCode.Success, replayCode);
        Assert.StartsWith("Reproduced: Leak", replayOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void BugInAUserAssemblyMeansBugFound()
    {
        var (code, output, _) = Run("test", Paths.UserCode, "--filter", "PooledConnectionLeakBuggy", "-i", "200", "--seed", "1", "-o", Paths.NewTempDir("user"));

        Assert.Equal(ExitCode.BugFound, code);
        Assert.Contains("Leak", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("not-dotnet")]
    [InlineData("no-tests")]
    [InlineData("unknown-test")]
    [InlineData("zero-iterations")]
    [InlineData("unknown-strategy")]
    [InlineData("bound-without-strategy")]
    [InlineData("unknown-option")]
    public void BadTestInputGetsOneLineErrorAndTheInputErrorCode(string input)
    {
        var dir = Paths.NewTempDir("bad");
        string[] args = input switch
        {
            "missing" => ["test", Path.Combine(dir, "nope.dll"), "-o", dir],
            "not-dotnet" => ["test", WriteFile(dir, "fake.dll", "this is not an assembly"), "-o", dir],
            "no-tests" => ["test", typeof(FailureKind).Assembly.Location, "-o", dir],
            "unknown-test" => ["test", "--filter", "NoSuchTestAnywhere", "-o", dir],
            "zero-iterations" => ["test", "-i", "0", "-o", dir],
            "unknown-strategy" => ["test", "-s", "sideways", "-o", dir],
            "bound-without-strategy" => ["test", "-sv", "3", "-o", dir],
            _ => ["test", "--no-such-option", "-o", dir],
        };

        var (code, _, error) = Run(args);

        Assert.Equal(ExitCode.InputError, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("systematic: ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("missing-trace")]
    [InlineData("empty-trace")]
    [InlineData("truncated-trace")]
    [InlineData("not-json")]
    [InlineData("other-test")]
    [InlineData("other-coyote")]
    public void BadTraceGetsOneLineErrorAndTheInputErrorCode(string input)
    {
        var folder = FailureFolder();
        var trace = Path.Combine(folder, FailureReport.TraceFile);
        var text = File.ReadAllText(trace);
        var target = folder;
        switch (input)
        {
            case "missing-folder":
                target = Path.Combine(folder, "does-not-exist");
                break;
            case "missing-trace":
                File.Delete(trace);
                break;
            case "empty-trace":
                File.WriteAllText(trace, "");
                break;
            case "truncated-trace":
                File.WriteAllText(trace, text[..(text.Length / 2)]);
                break;
            case "not-json":
                File.WriteAllText(trace, "<html>not a trace</html>");
                break;
            case "other-test":
                File.WriteAllText(trace, text.Replace("NoFinally.NoFinallyBuggy", "EarlyReturn.EarlyReturnBuggy", StringComparison.Ordinal));
                break;
            case "other-coyote":
                File.WriteAllText(trace, text.Replace("\"1.7.11", "\"1.5.9", StringComparison.Ordinal));
                break;
        }

        var (code, _, error) = Run("replay", target);

        Assert.Equal(ExitCode.InputError, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("systematic: ", line, StringComparison.Ordinal);
    }

    private static string? failureFolder;

    /// <summary>A fresh copy of one recorded failure folder (recorded once per test run).</summary>
    private static string FailureFolder()
    {
        if (failureFolder is null)
        {
            var outdir = Paths.NewTempDir("replay-source");
            var (code, _, _) = Run("test", "--filter", "NoFinallyBuggy", "-i", "300", "--seed", "3", "-o", outdir);
            Assert.Equal(ExitCode.Success, code);
            failureFolder = Directory.GetDirectories(Path.Combine(outdir, "latest")).Single();
        }

        var copy = Paths.NewTempDir("replay-copy");
        foreach (var file in Directory.GetFiles(failureFolder))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    private static string WriteFile(string dir, string name, string content)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Theory]
    [InlineData("--seed", "-1", "--seed takes a non-negative whole number, not '-1'.")]
    [InlineData("-i", "many", "--iterations takes a non-negative whole number, not 'many'.")]
    [InlineData("--max-steps", "1.5", "--max-steps takes a non-negative whole number, not '1.5'.")]
    [InlineData("-t", "-3", "--timeout takes a positive number of seconds, not '-3'.")]
    public void ParseErrorsSpeakTheUsersWords(string option, string value, string message)
    {
        var (code, _, error) = Run("test", option, value);

        Assert.Equal(ExitCode.InputError, code);
        Assert.Equal($"systematic: {message}", error.Trim());
    }

    [Fact]
    public void FilesPeopleCommitAndDiffKeepTheirBackticks()
    {
        var outdir = Paths.NewTempDir("relaxed");

        CliTests.Run("test", "--filter", "LockOrderBuggy", "-i", "100", "--seed", "3", "--in-process", "-o", outdir);

        var summary = File.ReadAllText(Path.Combine(outdir, "latest", "summary.json"));
        Assert.Contains("`", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0060", summary, StringComparison.Ordinal);
    }

    internal static (ExitCode Code, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Run(args, output, error);
        return ((ExitCode)code, output.ToString(), error.ToString());
    }
}
