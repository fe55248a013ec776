using System.Text.Json;
using System.Text.RegularExpressions;

namespace Systematic.Harness.Preparation;

/// <summary>
/// A <c>rewrite.coyote.json</c> the user keeps next to the tests (stock Coyote's way to rewrite several assemblies):
/// honoured by preparing exactly the assemblies it lists (with the test assembly) and none it ignores.
/// </summary>
internal sealed class RewriteConfiguration
{
    /// <summary>The file name stock Coyote's documentation uses.</summary>
    public const string FileName = "rewrite.coyote.json";

    private RewriteConfiguration(string path, IReadOnlySet<string>? assemblies, Regex? ignored)
    {
        this.Path = path;
        this.Assemblies = assemblies;
        this.Ignored = ignored;
    }

    /// <summary>Gets the file.</summary>
    public string Path { get; }

    /// <summary>Gets the assembly names it lists, or null when it lists none (then it only ignores).</summary>
    public IReadOnlySet<string>? Assemblies { get; }

    private Regex? Ignored { get; }

    /// <summary>Reads <c>rewrite.coyote.json</c> in <paramref name="folder"/>, or returns null when there is none.</summary>
    public static RewriteConfiguration? Find(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = document.RootElement;
            HashSet<string>? assemblies = null;
            if (root.TryGetProperty("Assemblies", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                assemblies = new HashSet<string>(
                    list.EnumerateArray().Select(e => e.GetString()).OfType<string>().Select(AssemblyName),
                    StringComparer.OrdinalIgnoreCase);
            }

            Regex? ignored = null;
            if (root.TryGetProperty("IgnoredAssemblies", out var ignore) && ignore.ValueKind == JsonValueKind.Array)
            {
                var patterns = ignore.EnumerateArray().Select(e => e.GetString()).OfType<string>().ToList();
                if (patterns.Count > 0)
                {
                    ignored = new Regex($"({string.Join('|', patterns)})", RegexOptions.None, TimeSpan.FromSeconds(1));
                }
            }

            return new RewriteConfiguration(path, assemblies is { Count: > 0 } ? assemblies : null, ignored);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new HarnessException($"{path} is not a valid {FileName}: {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>Returns why the configuration leaves <paramref name="name"/> out, or null when it does not.</summary>
    public string? Leaves(string name)
    {
        if (this.Ignored is { } ignored && ignored.IsMatch(name + ".dll"))
        {
            return $"ignored by {FileName}";
        }

        return this.Assemblies is { } listed && !listed.Contains(name) ? $"not listed in {FileName}" : null;
    }

    private static string AssemblyName(string entry)
    {
        var file = System.IO.Path.GetFileName(entry.Replace('\\', '/'));
        return file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)
            ? System.IO.Path.GetFileNameWithoutExtension(file)
            : file;
    }
}
