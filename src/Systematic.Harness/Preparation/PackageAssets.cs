using System.Text.Json;

namespace Systematic.Harness.Preparation;

/// <summary>
/// The NuGet package assemblies a test assembly's <c>.deps.json</c> names: which assemblies come from packages, and
/// where they live in the package cache (a class library's build output leaves them there).
/// </summary>
/// <param name="CacheFiles">Assembly name to its file in a package folder.</param>
/// <param name="Packages">The names of every assembly that comes from a package.</param>
internal sealed record PackageAssets(IReadOnlyDictionary<string, string> CacheFiles, IReadOnlySet<string> Packages)
{
    /// <summary>Reads the runtime assets of every package in <paramref name="assembly"/>'s deps.json and finds them in the package folders.</summary>
    public static PackageAssets Read(string assembly)
    {
        var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var packages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new PackageAssets(found, packages);
        using var document = DepsDocument(assembly);
        if (document is null || !TryRuntimeTarget(document.RootElement, out var target, out var libraries))
        {
            return result;
        }

        var roots = PackageRoots(assembly);
        foreach (var library in target.EnumerateObject())
        {
            if (RuntimeAssets(library, libraries) is var (runtime, packagePath))
            {
                Find(runtime, packagePath, roots, found, packages);
            }
        }

        return result;
    }

    /// <summary>The test assembly's deps.json, or null when it has none or it is not JSON.</summary>
    private static JsonDocument? DepsDocument(string assembly)
    {
        var deps = Path.ChangeExtension(Path.GetFullPath(assembly), ".deps.json");
        if (!File.Exists(deps))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllText(deps));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The target the app runs on (its runtimeTarget, else the first) and the libraries section.</summary>
    private static bool TryRuntimeTarget(JsonElement root, out JsonElement target, out JsonElement libraries)
    {
        target = default;
        libraries = default;
        if (!root.TryGetProperty("targets", out var targets) || !root.TryGetProperty("libraries", out libraries) || targets.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        target = root.TryGetProperty("runtimeTarget", out var rt) && rt.TryGetProperty("name", out var n) && n.GetString() is { } name && targets.TryGetProperty(name, out var t)
            ? t
            : targets.EnumerateObject().Select(p => p.Value).FirstOrDefault();
        return target.ValueKind == JsonValueKind.Object;
    }

    /// <summary>A package library's runtime assets and its folder under a package root, or null for a project or one without runtime assets.</summary>
    private static (JsonElement Runtime, string PackagePath)? RuntimeAssets(JsonProperty library, JsonElement libraries)
    {
        if (!library.Value.TryGetProperty("runtime", out var runtime) || runtime.ValueKind != JsonValueKind.Object ||
            !libraries.TryGetProperty(library.Name, out var info) || !info.TryGetProperty("type", out var type) || type.GetString() != "package")
        {
            return null;
        }

        var packagePath = info.TryGetProperty("path", out var p) && p.GetString() is { } relative ? relative : library.Name.ToLowerInvariant();
        return (runtime, packagePath);
    }

    /// <summary>Notes each runtime asset as a package assembly and, the first time, finds its file in the first package root that has it.</summary>
    private static void Find(JsonElement runtime, string packagePath, List<string> roots, Dictionary<string, string> found, HashSet<string> packages)
    {
        foreach (var asset in runtime.EnumerateObject())
        {
            var assemblyName = Path.GetFileNameWithoutExtension(asset.Name);
            packages.Add(assemblyName);
            if (found.ContainsKey(assemblyName))
            {
                continue;
            }

            foreach (var packageRoot in roots)
            {
                var file = Path.Combine(packageRoot, packagePath, asset.Name);
                if (File.Exists(file))
                {
                    found[assemblyName] = file;
                    break;
                }
            }
        }
    }

    /// <summary>The package folders, in the order the host probes them: the app's runtimeconfig.dev.json, NUGET_PACKAGES, the user's cache, fallback folders.</summary>
    private static List<string> PackageRoots(string assembly)
    {
        var roots = new List<string>();
        var dev = Path.ChangeExtension(Path.GetFullPath(assembly), ".runtimeconfig.dev.json");
        if (File.Exists(dev))
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllText(dev));
                if (document.RootElement.TryGetProperty("runtimeOptions", out var options) && options.TryGetProperty("additionalProbingPaths", out var paths))
                {
                    roots.AddRange(paths.EnumerateArray().Select(e => e.GetString()).OfType<string>());
                }
            }
            catch (JsonException)
            {
                // A damaged dev file only loses its hints.
            }
        }

        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env)
        {
            roots.Add(env);
        }

        roots.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        if (Environment.GetEnvironmentVariable("NUGET_FALLBACK_PACKAGES") is { Length: > 0 } fallback)
        {
            roots.AddRange(fallback.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }

        return roots.Where(Directory.Exists).Distinct(StringComparer.Ordinal).ToList();
    }
}
