using System.Text.Json;
using System.Text.Json.Nodes;

namespace Systematic.Harness;

/// <summary>
/// Makes the <c>.deps.json</c> of a prepared copy list every assembly in its folder, so that stock <c>coyote replay</c>,
/// which resolves dependencies only through that file, can load the copy and the recording probes it now references.
/// </summary>
internal static class DependencyManifest
{
    public static void Complete(string assemblyPath)
    {
        var folder = Path.GetDirectoryName(assemblyPath)!;
        var name = Path.GetFileNameWithoutExtension(assemblyPath);
        var path = Path.Combine(folder, name + ".deps.json");
        JsonObject root;
        try
        {
            root = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? Fresh() : Fresh();
        }
        catch (JsonException)
        {
            root = Fresh();
        }

        var targets = root["targets"] as JsonObject ?? [];
        root["targets"] = targets;
        var targetName = (root["runtimeTarget"] as JsonObject)?["name"]?.GetValue<string>() ?? $".NETCoreApp,Version=v{Environment.Version.Major}.0";
        var target = targets[targetName] as JsonObject ?? [];
        targets[targetName] = target;
        var libraries = root["libraries"] as JsonObject ?? [];
        root["libraries"] = libraries;

        var known = new HashSet<string>(libraries.Select(l => l.Key.Split('/')[0]), StringComparer.OrdinalIgnoreCase);
        foreach (var key in target.Select(t => t.Key))
        {
            known.Add(key.Split('/')[0]);
        }

        foreach (var dll in Directory.EnumerateFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            var library = Path.GetFileNameWithoutExtension(dll);
            if (known.Add(library))
            {
                var id = $"{library}/1.0.0";
                target[id] = new JsonObject { ["runtime"] = new JsonObject { [Path.GetFileName(dll)] = new JsonObject() } };
                libraries[id] = new JsonObject { ["type"] = "project", ["serviceable"] = false, ["sha512"] = "" };
            }
        }

        AtomicFile.Write(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        JsonObject Fresh() => new()
        {
            ["runtimeTarget"] = new JsonObject { ["name"] = $".NETCoreApp,Version=v{Environment.Version.Major}.0", ["signature"] = "" },
            ["compilationOptions"] = new JsonObject(),
            ["targets"] = new JsonObject(),
            ["libraries"] = new JsonObject(),
        };
    }
}
