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

        if (MatchXunit(Path.GetDirectoryName(Path.GetFullPath(assembly))!) is { } swapped)
        {
            output.WriteLine($"systematic: {swapped}");
        }

        return ExitCode.Success;
    }

    /// <summary>
    /// Puts the build of Systematic.Testing that matches the test project's xunit v3 major in its output: the package's
    /// lib/ is built against 3.x, and tools/xunit4/ holds the 4.x build (xunit changed how a test case runs). Returns
    /// what it did, or null when nothing was needed.
    /// </summary>
    private static string? MatchXunit(string folder)
    {
        var testing = Path.Combine(folder, "Systematic.Testing.dll");
        var xunit = Path.Combine(folder, "xunit.v3.core.dll");
        if (!File.Exists(testing) || !File.Exists(xunit))
        {
            return null;
        }

        var major = System.Reflection.AssemblyName.GetAssemblyName(xunit).Version?.Major ?? 0;
        var wanted = major >= 4 ? Path.Combine(AppContext.BaseDirectory, "xunit4", "Systematic.Testing.dll") : null;
        if (wanted is null)
        {
            return null;
        }

        if (!File.Exists(wanted))
        {
            return $"warning: xunit.v3.core {major}.x is not supported by this Systematic.Testing ({wanted} is missing): [SystematicFact] will not run.";
        }

        if (new FileInfo(wanted).Length == new FileInfo(testing).Length && File.ReadAllBytes(wanted).AsSpan().SequenceEqual(File.ReadAllBytes(testing)))
        {
            return null;
        }

        foreach (var file in new[] { "Systematic.Testing.dll", "Systematic.Testing.pdb" })
        {
            var source = Path.Combine(Path.GetDirectoryName(wanted)!, file);
            if (File.Exists(source))
            {
                InPlacePreparation.Replace(source, Path.Combine(folder, file));
            }
        }

        return $"Systematic.Testing for xunit v3 {major}.x put in place";
    }

    /// <summary><c>obj/systematic</c> of the project whose output holds <paramref name="assembly"/> (bin/Debug/net9.0/X.dll), else a folder next to it.</summary>
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
