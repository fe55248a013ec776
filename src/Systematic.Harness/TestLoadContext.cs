using System.Reflection;
using System.Runtime.Loader;

namespace Systematic.Harness;

/// <summary>
/// Loads a prepared assembly and its dependencies from its cache folder, sharing Coyote and Systematic's recording
/// assemblies with the harness so that both see one runtime and one recorder. What the folder's top level does not
/// hold (a runtime-specific assembly under <c>runtimes/</c>, a satellite under a culture folder, a native library) is
/// resolved through the test assembly's <c>.deps.json</c>, as the host would; what another shared framework holds
/// (ASP.NET Core, for a library with a <c>FrameworkReference</c>), from that framework's folder.
/// </summary>
internal sealed class TestLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> Shared = new(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft.Coyote", "Microsoft.Coyote.Test", "Microsoft.Coyote.Actors", "Systematic.Recording", "Systematic.Annotations", "xunit.abstractions",
    };

    private readonly string directory;
    private readonly AssemblyDependencyResolver? resolver;

    public TestLoadContext(string assemblyPath)
        : base($"systematic:{assemblyPath}")
    {
        this.directory = Path.GetDirectoryName(assemblyPath)!;
        try
        {
            this.resolver = new AssemblyDependencyResolver(assemblyPath);
        }
        catch (InvalidOperationException)
        {
            // No usable deps.json: the folder's top level is all there is.
        }
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || Shared.Contains(assemblyName.Name))
        {
            return null;
        }

        // The prepared (rewritten, instrumented) copies sit at the top level: they win over what deps.json names.
        var path = Path.Combine(this.directory, assemblyName.Name + ".dll");
        if (string.IsNullOrEmpty(assemblyName.CultureName) && File.Exists(path))
        {
            return this.LoadFromAssemblyPath(path);
        }

        if (this.resolver?.ResolveAssemblyToPath(assemblyName) is { } resolved && File.Exists(resolved))
        {
            return this.LoadFromAssemblyPath(resolved);
        }

        // Of a shared framework other than the one this process runs on (a library's FrameworkReference to
        // Microsoft.AspNetCore.App): the test host would have it, this process does not.
        return Preparation.AssemblyClosure.OtherSharedFrameworks.Select(f => Path.Combine(f, assemblyName.Name + ".dll")).FirstOrDefault(File.Exists) is { } shared
            ? this.LoadFromAssemblyPath(shared)
            : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        this.resolver?.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? this.LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
}
