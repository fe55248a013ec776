using Systematic.Harness;
using Systematic.Harness.Preparation;

namespace Systematic.Cli;

/// <summary><c>systematic prepare</c>: the build step of the Systematic.Testing package.</summary>
internal static class PrepareCommand
{
    public static ExitCode Run(string assembly, string cache, string reports, PreparationOptions preparation, TextWriter output)
    {
        var cacheRoot = cache.Length > 0 ? cache : DefaultCache(assembly);
        var result = InPlacePreparation.Run(assembly, cacheRoot, reports, preparation);
        var name = Path.GetFileName(assembly);
        var prepared = result.Manifest.Assemblies.Count(d => d.IsPrepared);
        output.WriteLine($"systematic: {name}: {prepared} assembl{(prepared == 1 ? "y" : "ies")} prepared in place ({result.Note}; {result.Replaced.Count} file(s) replaced) in {result.Elapsed.TotalSeconds:0.00} s");
        foreach (var warning in result.Manifest.Assemblies.Where(d => d.IsWarning))
        {
            output.WriteLine($"systematic: warning: {warning.Line}");
        }

        return ExitCode.Success;
    }

    /// <summary><c>obj/systematic</c> of the project whose output holds <paramref name="assembly"/> (bin/Debug/net10.0/X.dll), else a folder next to it.</summary>
    private static string DefaultCache(string assembly)
    {
        var folder = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(assembly))!);
        for (var up = folder; up is not null; up = up.Parent)
        {
            if (up.Name == "bin" && up.Parent is { } project)
            {
                return Path.Combine(project.FullName, "obj", "systematic");
            }
        }

        return Path.Combine(folder.FullName, ".systematic");
    }
}
