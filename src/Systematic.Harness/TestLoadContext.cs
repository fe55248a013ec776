using System.Reflection;
using System.Runtime.Loader;

namespace Systematic.Harness;

/// <summary>
/// Loads a prepared assembly and its dependencies from its cache folder, sharing Coyote and Systematic's recording
/// assemblies with the harness so that both see one runtime and one recorder.
/// </summary>
internal sealed class TestLoadContext(string directory) : AssemblyLoadContext($"systematic:{directory}")
{
    private static readonly HashSet<string> Shared = new(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft.Coyote", "Microsoft.Coyote.Test", "Microsoft.Coyote.Actors", "Systematic.Recording", "Systematic.Annotations", "xunit.abstractions",
    };

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || Shared.Contains(assemblyName.Name))
        {
            return null;
        }

        var path = Path.Combine(directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? this.LoadFromAssemblyPath(path) : null;
    }
}
