using System.Diagnostics;

namespace Systematic.Harness;

/// <summary>Runs the Coyote command-line tool (<c>dotnet tool run coyote</c>) from the nearest tool manifest that lists it.</summary>
internal static class CoyoteCli
{
    /// <summary>Finds the folder whose <c>.config/dotnet-tools.json</c> lists the Coyote CLI, or null.</summary>
    public static string? FindManifestRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var manifest = Path.Combine(dir.FullName, ".config", "dotnet-tools.json");
                if (File.Exists(manifest) && File.ReadAllText(manifest).Contains("microsoft.coyote.cli", StringComparison.OrdinalIgnoreCase))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>Rewrites <paramref name="assembly"/> in place with <c>coyote rewrite</c>.</summary>
    public static void Rewrite(string assembly)
    {
        var root = FindManifestRoot() ?? throw new HarnessException(
            $"'{Path.GetFileName(assembly)}' is not rewritten by Coyote and no tool manifest with Microsoft.Coyote.CLI was found; run `dotnet tool restore` in a repository that has one, or `coyote rewrite` the assembly yourself.");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "tool", "run", "coyote", "--", "rewrite", assembly })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new HarnessException("Could not start `dotnet tool run coyote`.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new HarnessException($"`coyote rewrite {Path.GetFileName(assembly)}` did not finish within 5 minutes.");
        }

        if (process.ExitCode != 0)
        {
            var text = (output.Result + error.Result).Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "";
            throw new HarnessException($"`coyote rewrite {Path.GetFileName(assembly)}` failed (exit {process.ExitCode}): {text}");
        }
    }
}
