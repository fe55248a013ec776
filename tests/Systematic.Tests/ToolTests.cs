using System.Diagnostics;
using System.Text.Json;

namespace Systematic.Tests;

/// <summary>
/// Systematic as users get it: the package this repository packs, installed as a dotnet tool into a folder of its
/// own, run in a folder outside the repository with no tool manifest anywhere, on a solution's build output.
/// </summary>
[Collection("engine")]
public sealed class ToolTests
{
    [Fact]
    public void ThePackedToolRunsASolutionOutsideTheRepositoryAndItsReplayCommandsWorkThere()
    {
        var root = Paths.NewTempDir("tool");
        var feed = Path.Combine(root, "feed");
        var tools = Path.Combine(root, "tools");
        var user = Path.Combine(root, "their-repo");
        var version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root, "nuget") };
        Assert.False(Paths.RepoRoot.StartsWith(root, StringComparison.Ordinal) || root.StartsWith(Paths.RepoRoot, StringComparison.Ordinal));

        // The build these tests run on (pack defaults to Release, which may be older or missing).
        Run("dotnet", ["pack", Path.Combine(Paths.RepoRoot, "src", "Systematic.Cli"), "--no-build", "-c", Paths.Configuration, "-o", feed, $"-p:Version={version}"], Paths.RepoRoot, environment);
        Run("dotnet", ["tool", "install", "--tool-path", tools, "Systematic.Tool", "--version", version, "--add-source", feed], root, environment);
        Directory.CreateDirectory(Path.Combine(user, "bin"));
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(Paths.Solution)!))
        {
            File.Copy(file, Path.Combine(user, "bin", Path.GetFileName(file)));
        }

        var (exit, output) = Run(Path.Combine(tools, "systematic"), ["test", Path.Combine("bin", "Booking.Tests.dll"), "-i", "200", "--seed", "3"], user, environment, check: false);

        Assert.True(exit == 0, output);
        Assert.Contains("18 of 18 tests as expected", output, StringComparison.Ordinal);
        Assert.Contains("rewritten: Nito.AsyncEx.Coordination", output, StringComparison.Ordinal);
        var failure = Directory.EnumerateFiles(Path.Combine(user, "coyote-reports"), "failure.json", SearchOption.AllDirectories).First(f => f.Contains("DeclinedCardBuggy", StringComparison.Ordinal));
        using var document = JsonDocument.Parse(File.ReadAllText(failure));
        var replay = document.RootElement.GetProperty("replay");
        var systematic = replay.GetProperty("systematic").GetString()!;
        Assert.StartsWith("systematic replay ", systematic, StringComparison.Ordinal);
        var (replayExit, replayOutput) = Run(Path.Combine(tools, "systematic"), ["replay", Path.GetDirectoryName(failure)!], user, environment, check: false);
        Assert.True(replayExit == 0 && replayOutput.StartsWith("Reproduced: Leak", StringComparison.Ordinal), replayOutput);
        var (stockExit, stockOutput) = Run("bash", ["-c", replay.GetProperty("coyote").GetString()!], user, new Dictionary<string, string>(), check: false);
        Assert.True(stockExit == 2 && stockOutput.Contains("Reproduced 1 bug", StringComparison.Ordinal), stockOutput);
    }

    private static (int Exit, string Output) Run(string command, IEnumerable<string> arguments, string directory, IReadOnlyDictionary<string, string> environment, bool check = true)
    {
        var (exit, output) = Processes.Run(command, arguments, directory, environment);
        if (check)
        {
            Assert.True(exit == 0, $"{command} {string.Join(' ', arguments)} exited {exit}: {output}");
        }

        return (exit, output);
    }
}
