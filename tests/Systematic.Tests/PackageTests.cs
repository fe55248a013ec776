using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;

namespace Systematic.Tests;

/// <summary>
/// Systematic.Testing as a user gets it: the packages this repository packs, in a folder feed, referenced by the xunit
/// v3 test project of tests/Samples.Package (a library with a NuGet package and .NET 9+ locks), copied outside the
/// repository and run with plain <c>dotnet test</c>.
/// </summary>
public sealed class PackageTests
{
    private const string Tests = "Inventory.Tests";

    [Fact]
    public void DotnetTestFindsExplainsAndReplaysWithThePackage()
    {
        var (root, repo, version) = UserRepository("package");
        var property = $"-p:SystematicTestingVersion={version}";

        // A project that stays on an older xunit v3 3.x: the package is built against the lowest 3.x, so it compiles there.
        var project = Path.Combine(repo, Tests, Tests + ".csproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("\"xunit.v3\" Version=\"3.2.2\"", "\"xunit.v3\" Version=\"3.2.0\"", StringComparison.Ordinal));

        var (exit, output) = Run(["test", Tests, property, "--logger", "trx;LogFileName=first.trx", "--results-directory", Path.Combine(root, "results")], repo);
        Assert.True(exit != 0, output);
        var results = Results(Path.Combine(root, "results", "first.trx"));

        // Bugs fail with their kind, the diagnosis (task, resource, line) and the failure folder.
        var deadlock = results["Inventory.Tests.WarehouseTests.PickAndReturnAtOnce"];
        Assert.Equal("Failed", deadlock.Outcome);
        Assert.Contains("SystematicFailureException : LockOrderDeadlock: Task `", deadlock.Message, StringComparison.Ordinal);
        Assert.Contains("`Warehouse.shelf`", deadlock.Message, StringComparison.Ordinal);
        Assert.Contains("`Warehouse.ledger`", deadlock.Message, StringComparison.Ordinal);
        Assert.Matches(@"at Warehouse\.cs:\d+", deadlock.Message);
        var folder = FailureFolder(deadlock.Message);
        Assert.StartsWith(Path.Combine(repo, "coyote-reports"), folder, StringComparison.Ordinal);
        foreach (var file in new[] { "report.md", "failure.trace", "minimal.trace", "failure.json" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} missing in {folder}");
        }

        Assert.Matches(@"strategy \S+, seed \d+", deadlock.Output);
        Assert.Matches(@"of which \d+\.\d\d s finding the failure's fewest preemptions, [\d,]+ schedule\(s\)", deadlock.Output);
        var leak = results["Inventory.Tests.RestockerTests.RestocksSurviveFailingSuppliers"];
        Assert.Equal("Failed", leak.Outcome);
        Assert.Contains("SystematicFailureException : Leak: Task `", leak.Message, StringComparison.Ordinal);
        Assert.Contains("`Restocker.slots`", leak.Message, StringComparison.Ordinal);

        // Fixed twins pass; a documented bug passes while it is found; Explore.RunAsync works from a plain [Fact].
        Assert.Contains("found the expected LockOrderDeadlock", Passed(results, "Inventory.Tests.WarehouseTests.PickAndReturnAtOnceKnownBug").Output, StringComparison.Ordinal);
        Assert.Matches(@"300 iteration\(s\); strategy \S+, seed \d+", Passed(results, "Inventory.Tests.WarehouseTests.PickAndReturnInOrder").Output);
        Assert.Matches(@"no bug in any of [\d,]+ schedules with at most 2 preemptions", Passed(results, "Inventory.Tests.WarehouseTests.PickAndReturnInOrderBounded").Output);
        Passed(results, "Inventory.Tests.RestockerTests.SafeRestocksSurviveFailingSuppliers");
        Passed(results, "Inventory.Tests.RestockerTests.ExploreReportsTheLeak");
        Passed(results, "Inventory.Tests.RestockerTests.OrdinaryFactsRunAsUsual");
        Passed(results, "Inventory.Tests.WarehouseLoadTests.ManyPicksAndReturnsOnRealThreads");
        Assert.Contains("total 10", Passed(results, "Inventory.Tests.WarehouseWithOutputTests.PickAndReturnInOrderWithOutput").Output, StringComparison.Ordinal);
        Assert.Equal(10, results.Count);

        // The failure replays: in Systematic's command, in stock Coyote, and in the test itself.
        var cli = Path.Combine(Paths.RepoRoot, "src", "Systematic.Cli", "bin", Paths.Configuration, "net9.0", "systematic.dll");
        var (replayExit, replayOutput) = Run([cli, "replay", folder], repo);
        Assert.True(replayExit == 0 && replayOutput.StartsWith("Reproduced: LockOrderDeadlock", StringComparison.Ordinal), replayOutput);
        using (var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "failure.json"))))
        {
            var stock = document.RootElement.GetProperty("replay").GetProperty("coyote").GetString()!;
            var (stockExit, stockOutput) = Run("bash", ["-c", stock], repo);
            Assert.True(stockExit == 2 && stockOutput.Contains("Reproduced 1 bug", StringComparison.Ordinal), stock + "\n" + stockOutput);
        }

        var (againExit, againOutput) = Run(
            ["test", Tests, property, "--no-build", "--filter", "FullyQualifiedName=Inventory.Tests.WarehouseTests.PickAndReturnAtOnce", "--logger", "trx;LogFileName=replay.trx", "--results-directory", Path.Combine(root, "results")],
            repo,
            new Dictionary<string, string> { ["SYSTEMATIC_REPLAY"] = "last" });
        Assert.True(againExit != 0, againOutput);
        var replayed = Results(Path.Combine(root, "results", "replay.trx"))["Inventory.Tests.WarehouseTests.PickAndReturnAtOnce"];
        Assert.Contains("LockOrderDeadlock: Task `", replayed.Message, StringComparison.Ordinal);
        Assert.Contains($"replayed {folder}: Reproduced: LockOrderDeadlock", replayed.Output, StringComparison.Ordinal);

        // A second build with nothing changed reuses the prepared copy.
        var (buildExit, buildOutput) = Run(["build", Tests, property, "-v", "n"], repo);
        Assert.True(buildExit == 0, buildOutput);
        Assert.Contains("prepared copy reused", buildOutput, StringComparison.Ordinal);

        // Nor a false verdict: a library copied over its prepared version after the build step (before any test loaded
        // it) fails the test with the reason, not with the deadlock its uncontrolled code would seem to have.
        var compiled = Directory.GetFiles(Path.Combine(repo, "Inventory", "obj"), "Inventory.dll", SearchOption.AllDirectories).Single(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "ref" or "refint"));
        var deployed = Directory.GetFiles(Path.Combine(repo, Tests, "bin"), "Inventory.dll", SearchOption.AllDirectories).Single();
        File.Copy(compiled, deployed, overwrite: true);
        var (copiedExit, copiedOutput) = Run(["test", Tests, property, "--no-build", "--filter", "FullyQualifiedName=Inventory.Tests.WarehouseTests.PickAndReturnInOrder", "--logger", "trx;LogFileName=copied.trx", "--results-directory", Path.Combine(root, "results")], repo);
        Assert.True(copiedExit != 0, copiedOutput);
        var copied = Results(Path.Combine(root, "results", "copied.trx"))["Inventory.Tests.WarehouseTests.PickAndReturnInOrder"];
        Assert.Contains($"Inventory.dll runs unprepared (from {deployed})", copied.Message, StringComparison.Ordinal);

        // Never a silent pass: without the build step, a [SystematicFact] fails and says why.
        Directory.Delete(Path.Combine(repo, Tests, "bin"), recursive: true);
        var (offExit, offOutput) = Run(["test", Tests, property, "-p:SystematicPrepare=false", "--filter", "FullyQualifiedName=Inventory.Tests.WarehouseTests.PickAndReturnInOrder", "--logger", "trx;LogFileName=off.trx", "--results-directory", Path.Combine(root, "results")], repo);
        Assert.True(offExit != 0, offOutput);
        var unprepared = Results(Path.Combine(root, "results", "off.trx"))["Inventory.Tests.WarehouseTests.PickAndReturnInOrder"];
        Assert.Equal("Failed", unprepared.Outcome);
        Assert.Contains("Inventory.Tests.dll was not prepared for Systematic: the Systematic.Testing build step did not run", unprepared.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DotnetTestWorksWithXunit4AndTheTestingPlatformOnNet9()
    {
        var (root, repo, version) = UserRepository("package4");

        // A repository on .NET 9: its library and tests target net9.0 (run here on .NET 10, the only runtime installed).
        var props = Path.Combine(repo, "Directory.Build.props");
        File.WriteAllText(props, File.ReadAllText(props).Replace("<TargetFramework>net10.0</TargetFramework>", "<TargetFramework>net9.0</TargetFramework>", StringComparison.Ordinal));
        var onNet10 = new Dictionary<string, string> { ["DOTNET_ROLL_FORWARD"] = "Major" };

        // As `dotnet new xunit3` makes a project with xunit.v3 4.x: Microsoft.Testing.Platform, no VSTest adapter.
        File.WriteAllText(Path.Combine(repo, "global.json"), """{ "test": { "runner": "Microsoft.Testing.Platform" } }""");
        var project = Path.Combine(repo, Tests, Tests + ".csproj");
        var text = File.ReadAllText(project).Replace("\"xunit.v3\" Version=\"3.2.2\"", "\"xunit.v3\" Version=\"4.0.0\"", StringComparison.Ordinal);
        text = string.Join('\n', text.Split('\n').Where(line => !line.Contains("Microsoft.NET.Test.Sdk", StringComparison.Ordinal) && !line.Contains("xunit.runner.visualstudio", StringComparison.Ordinal)));
        File.WriteAllText(project, text);

        var (exit, output) = Run(["test", "--project", Tests, $"-p:SystematicTestingVersion={version}"], repo, onNet10);

        Assert.True(exit != 0, output);
        Assert.True(File.Exists(Path.Combine(repo, Tests, "bin", "Debug", "net9.0", "Inventory.Tests.dll")), output);
        Assert.Contains("Systematic.Testing for xunit v3 4.x put in place", Run(["build", Tests, $"-p:SystematicTestingVersion={version}", "-v", "n", "--no-incremental"], repo, onNet10).Output, StringComparison.Ordinal);
        Assert.Matches(@"failed Inventory\.Tests\.WarehouseTests\.PickAndReturnAtOnce \(", output);
        Assert.Matches(@"failed Inventory\.Tests\.RestockerTests\.RestocksSurviveFailingSuppliers \(", output);
        Assert.Contains("SystematicFailureException : LockOrderDeadlock: Task `", output, StringComparison.Ordinal);
        Assert.Contains("SystematicFailureException : Leak: Task `", output, StringComparison.Ordinal);
        Assert.Matches(@"total: 10\s+failed: 2\s+succeeded: 8", output);
    }

    /// <summary>
    /// A user's repository: the sample copied into a fresh folder outside this one, its package source the feed the
    /// packages of this build are in.
    /// </summary>
    private static (string Root, string Repo, string Version) UserRepository(string name)
    {
        var root = Paths.NewTempDir(name);
        var (feed, version) = Feed(root);
        var repo = Path.Combine(root, "their-repo");
        CopySample(Path.Combine(Paths.RepoRoot, "tests", "Samples.Package"), repo);
        File.WriteAllText(Path.Combine(repo, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="systematic-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        return (root, repo, version);
    }

    /// <summary>The folder feed .ci/run packed (SYSTEMATIC_FEED), or one packed now from this build with a version of its own.</summary>
    internal static (string Feed, string Version) Feed(string root)
    {
        if (Environment.GetEnvironmentVariable("SYSTEMATIC_FEED") is { Length: > 0 } given &&
            Directory.Exists(given) &&
            Directory.EnumerateFiles(given, "Systematic.Testing.*.nupkg").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault() is { } package)
        {
            return (Path.GetFullPath(given), Path.GetFileNameWithoutExtension(package)["Systematic.Testing.".Length..]);
        }

        // A version of its own, so that NuGet's cache never serves an older pack.
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var feed = Path.Combine(root, "feed");
        var (exit, output) = Run(["pack", Path.Combine(Paths.RepoRoot, "Systematic.sln"), "--no-build", "-c", Paths.Configuration, "-o", feed, $"-p:Version={version}"], Paths.RepoRoot);
        Assert.True(exit == 0, output);
        return (feed, version);
    }

    private static void CopySample(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "coyote-reports"))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    private static string FailureFolder(string message)
    {
        const string marker = "Failure folder: ";
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, message);
        var rest = message[(start + marker.Length)..];
        return rest[..rest.IndexOf(" (", StringComparison.Ordinal)];
    }

    private static TestResult Passed(IReadOnlyDictionary<string, TestResult> results, string test)
    {
        var result = results[test];
        Assert.True(result.Outcome == "Passed", $"{test}: {result.Outcome}: {result.Message}\n{result.Output}");
        return result;
    }

    private sealed record TestResult(string Outcome, string Message, string Output);

    private static Dictionary<string, TestResult> Results(string trx)
    {
        var document = XDocument.Load(trx);
        XNamespace ns = document.Root!.Name.Namespace;
        return document.Descendants(ns + "UnitTestResult").ToDictionary(
            r => (string)r.Attribute("testName")!,
            r => new TestResult(
                (string)r.Attribute("outcome")!,
                r.Descendants(ns + "Message").FirstOrDefault()?.Value ?? "",
                r.Descendants(ns + "StdOut").FirstOrDefault()?.Value ?? ""));
    }

    private static (int Exit, string Output) Run(IReadOnlyList<string> arguments, string directory, IReadOnlyDictionary<string, string>? environment = null) =>
        Processes.Run("dotnet", arguments, directory, environment);

    private static (int Exit, string Output) Run(string command, IReadOnlyList<string> arguments, string directory) =>
        Processes.Run(command, arguments, directory);
}
