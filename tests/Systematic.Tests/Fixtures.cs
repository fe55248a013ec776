using System.Diagnostics;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>Paths of the repository and of the assemblies under test.</summary>
internal static class Paths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Catalog => RunSession.CatalogPath;

    public static string UserCode => Sample("Samples.UserCode");

    public static string Uncontrolled => Sample("Samples.Uncontrolled");

    public static string Misbehaving => Sample("Samples.Misbehaving");

    /// <summary>Gets an ordinary xunit v3 test project's assembly (test SDK, test platform and xunit next to it) that also holds Coyote tests.</summary>
    public static string XunitProject => Sample("Samples.XunitProject");

    /// <summary>Gets the test assembly of the sample solution (tests, two libraries, a NuGet package left in the package cache).</summary>
    public static string Solution => Sample(Path.Combine("Samples.Solution", "Booking.Tests"), "Booking.Tests");

    public static string NewTempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "systematic-tests", $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Gets the build configuration these tests were built with.</summary>
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string Sample(string name) => Sample(name, name);

    private static string Sample(string project, string name) => Path.Combine(RepoRoot, "tests", project, "bin", Configuration, "net10.0", name + ".dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Systematic.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Systematic.sln).");
    }
}

/// <summary>The catalog, prepared (copied, instrumented, loaded) once for all tests.</summary>
public sealed class CatalogFixture : IDisposable
{
    public CatalogFixture()
    {
        this.OutDir = Paths.NewTempDir("catalog");
        this.Assembly = PreparedAssembly.Prepare(Paths.Catalog, Path.Combine(this.OutDir, ".assemblies"));
    }

    public string OutDir { get; }

    internal PreparedAssembly Assembly { get; }

    internal TestCase Test(string shortName) => this.Assembly.Tests.Single(t => t.ShortName == shortName);

    public void Dispose()
    {
        // Reports stay in the temp folder for inspection after a failing run.
    }
}

[CollectionDefinition("engine")]
public sealed class EngineTests : ICollectionFixture<CatalogFixture>;

/// <summary>Runs a command as a user would in a shell, with telemetry off and none of the test host's MSBuild settings.</summary>
internal static class Processes
{
    public static (int Exit, string Output) Run(string command, IEnumerable<string> arguments, string directory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";

        // The test host's own settings must not leak into the user's build.
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        start.Environment.Remove("MSBuildSDKsPath");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), $"{command} {string.Join(' ', arguments)} did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }
}
