using System.Security.Cryptography;
using System.Text.Json;
using Systematic.Harness.Reports;

namespace Systematic.Harness.Preparation;

/// <summary>
/// <c>preparation.json</c>, written last into a prepared copy: what each assembly of the closure became, and every
/// file of the copy with its size (and, for the assemblies preparation wrote, its SHA-256), so that a damaged copy
/// (truncated, emptied or deleted files) is found and prepared again instead of failing every later run.
/// </summary>
internal sealed record PreparationManifest
{
    /// <summary>The schema id of this version.</summary>
    public const string CurrentSchema = "systematic.preparation/1";

    /// <summary>Gets the schema id.</summary>
    public string Schema { get; init; } = CurrentSchema;

    /// <summary>Gets the test assembly the copy was made from.</summary>
    public required string Source { get; init; }

    /// <summary>Gets what preparation did with each assembly of the closure.</summary>
    public required IReadOnlyList<AssemblyDecision> Assemblies { get; init; }

    /// <summary>Gets every file of the copy, relative to it.</summary>
    public required IReadOnlyList<PreparedFile> Files { get; init; }

    /// <summary>Describes the finished copy in <paramref name="folder"/>.</summary>
    public static PreparationManifest Describe(string folder, string source, IReadOnlyList<AssemblyDecision> assemblies)
    {
        var written = assemblies.Where(a => a.Action is PreparationAction.Rewritten or PreparationAction.Instrumented)
            .SelectMany(a => new[] { a.Name + ".dll", a.Name + ".exe", a.Name + ".pdb" })
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var files = PreparedCopy.EnumerateFiles(folder)
            .Select(f => (Relative: Path.GetRelativePath(folder, f).Replace('\\', '/'), Full: f))
            .Where(f => f.Relative != PreparedCopy.ManifestFile)
            .Order()
            .Select(f => new PreparedFile(f.Relative, new FileInfo(f.Full).Length, written.Contains(f.Relative) ? Sha256(f.Full) : null))
            .ToList();
        return new PreparationManifest { Source = source, Assemblies = assemblies, Files = files };
    }

    /// <summary>Reads a manifest, or returns null when it is missing, unreadable or of another schema.</summary>
    public static PreparationManifest? TryRead(string path)
    {
        try
        {
            var manifest = File.Exists(path) ? JsonSerializer.Deserialize<PreparationManifest>(File.ReadAllText(path), Json.Options) : null;
            return manifest is { Schema: CurrentSchema, Assemblies: not null, Files: not null } ? manifest : null;
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Returns the first damage found in the copy at <paramref name="folder"/> (a file missing, of another size or content), or null when it is whole.</summary>
    public string? FindDamage(string folder)
    {
        foreach (var file in this.Files)
        {
            var path = Path.Combine(folder, file.Path);
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return $"{file.Path} is missing";
            }

            if (info.Length != file.Size)
            {
                return $"{file.Path} has {info.Length} bytes instead of {file.Size}";
            }

            if (file.Sha256 is { } expected && !string.Equals(Sha256(path), expected, StringComparison.Ordinal))
            {
                return $"{file.Path} has changed";
            }
        }

        return null;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}

/// <summary>One file of a prepared copy.</summary>
/// <param name="Path">The path relative to the copy, with forward slashes.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">Its SHA-256 when preparation wrote it, else null.</param>
internal sealed record PreparedFile(string Path, long Size, string? Sha256);
