using System.Diagnostics;
using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Instrumentation;

namespace Systematic.Harness.Preparation;

/// <summary>What an in-place preparation left in a build output folder, read back by the tests that run there.</summary>
/// <param name="Source">The test assembly.</param>
/// <param name="Copy">The prepared copy in the cache that the prepared files came from.</param>
/// <param name="ReportsDirectory">Where failures of the tests are written (<c>coyote-reports</c> of the solution or project).</param>
/// <param name="Assemblies">Every assembly the tests reach and what preparation did with it.</param>
internal sealed record InPlaceManifest(string Source, string Copy, string ReportsDirectory, IReadOnlyList<AssemblyDecision> Assemblies)
{
    /// <summary>The manifest's file name, next to the test assembly.</summary>
    public const string FileName = "systematic.preparation.json";

    /// <summary>The schema of this document; bumped when its shape changes.</summary>
    public const string CurrentSchema = "systematic.in-place/1";

    /// <summary>Gets the schema.</summary>
    public string Schema { get; init; } = CurrentSchema;

    /// <summary>Reads the manifest next to <paramref name="testAssembly"/>, or returns null when there is none of this schema.</summary>
    public static InPlaceManifest? TryRead(string testAssembly)
    {
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(testAssembly))!, FileName);
        try
        {
            var manifest = File.Exists(path) ? JsonSerializer.Deserialize<InPlaceManifest>(File.ReadAllText(path), Json.Options) : null;
            return manifest is { Schema: CurrentSchema, Assemblies: not null } ? manifest : null;
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            return null;
        }
    }
}

/// <summary>What <see cref="InPlacePreparation.Run"/> did.</summary>
/// <param name="Manifest">The manifest written next to the tests.</param>
/// <param name="Replaced">The files of the build output replaced by their prepared versions.</param>
/// <param name="Note">How the prepared copy was obtained (made now, or reused from the cache).</param>
/// <param name="Elapsed">The time taken.</param>
internal sealed record InPlaceResult(InPlaceManifest Manifest, IReadOnlyList<string> Replaced, string Note, TimeSpan Elapsed);

/// <summary>
/// Prepares a test project's build output where it is, for tests that explore in the test runner's own process
/// (the Systematic.Testing package runs this after every build): the closure is prepared into the cache as for
/// <c>systematic test</c>, then each rewritten and instrumented assembly (with its PDB) replaces the one the build
/// copied. A build copies the originals again, so this runs after each one; with nothing changed the cached copy is
/// reused and only the replacing is done.
/// </summary>
internal static class InPlacePreparation
{
    /// <summary>Prepares the output folder of <paramref name="testAssembly"/>, caching under <paramref name="cacheRoot"/>.</summary>
    public static InPlaceResult Run(string testAssembly, string cacheRoot, string reportsDirectory, PreparationOptions? options = null)
    {
        var clock = Stopwatch.StartNew();
        options ??= PreparationOptions.Default;
        options.Validate();
        var source = Path.GetFullPath(testAssembly);
        if (!File.Exists(source))
        {
            throw new HarnessException($"Assembly not found: {testAssembly}");
        }

        var folder = Path.GetDirectoryName(source)!;
        var closure = PreparedAssembly.Scan(source, options);
        if (closure.FirstOrDefault(d => string.Equals(d.Path, source, StringComparison.OrdinalIgnoreCase))?.Action == PreparationAction.UsedAsIs)
        {
            // The build did not copy the test assembly again: the folder is as the last preparation left it.
            var previous = InPlaceManifest.TryRead(source)
                ?? throw new HarnessException($"{Path.GetFileName(source)} is instrumented but {InPlaceManifest.FileName} is missing: rebuild the project (dotnet build --no-incremental).");
            return new InPlaceResult(previous with { ReportsDirectory = Path.GetFullPath(reportsDirectory) }, [], "already prepared", clock.Elapsed);
        }

        var (path, decisions, note) = PreparedCopy.Get(source, closure, Path.GetFullPath(cacheRoot), options);
        var copy = Path.GetDirectoryName(path)!;
        var replaced = new List<string>();
        foreach (var decision in decisions.Where(d => d.Action is PreparationAction.Rewritten or PreparationAction.Instrumented && d.Path is not null))
        {
            var file = Path.GetFileName(decision.Path!);
            foreach (var name in new[] { file, Path.ChangeExtension(file, ".pdb") })
            {
                var prepared = Path.Combine(copy, name);
                if (File.Exists(prepared))
                {
                    Replace(prepared, Path.Combine(folder, name));
                    replaced.Add(name);
                }
            }
        }

        Prune(copy);
        var manifest = new InPlaceManifest(source, copy, Path.GetFullPath(reportsDirectory), decisions);
        AtomicFile.Write(Path.Combine(folder, InPlaceManifest.FileName), JsonSerializer.Serialize(manifest, Json.Options));
        return new InPlaceResult(manifest, replaced, note, clock.Elapsed);
    }

    /// <summary>
    /// Returns the assemblies of <paramref name="manifest"/>'s closure that should run prepared but do not: their file in
    /// <paramref name="folder"/> is not instrumented (the build, or a copy by hand, put the original back after the
    /// preparation). <paramref name="isInstrumented"/> reads the mark (default: <see cref="Instrumenter.IsInstrumented(string)"/>).
    /// </summary>
    public static IReadOnlyList<(string Name, string Path)> Unprepared(InPlaceManifest manifest, string folder, Func<string, bool>? isInstrumented = null)
    {
        isInstrumented ??= Instrumenter.IsInstrumented;
        return manifest.Assemblies
            .Where(d => d.IsPrepared && d.Path is not null)
            .Select(d => (d.Name, Path: Path.Combine(folder, Path.GetFileName(d.Path!))))
            .Where(a => File.Exists(a.Path) && !isInstrumented(a.Path))
            .ToList();
    }

    /// <summary>How many prepared copies of one test assembly the cache keeps (the current one and the ones before it).</summary>
    private const int CopiesKept = 3;

    /// <summary>Deletes the oldest prepared copies of the same test assembly beyond <see cref="CopiesKept"/>: every build that changes the code makes one.</summary>
    private static void Prune(string current)
    {
        var name = Path.GetFileName(current);
        var prefix = name[..(name.LastIndexOf('-') + 1)];
        var stale = new DirectoryInfo(Path.GetDirectoryName(current)!).EnumerateDirectories(prefix + "*")
            .Where(d => d.FullName != current && !d.Name.Contains(".tmp-", StringComparison.Ordinal) && d.Name.Length == name.Length)
            .OrderByDescending(d => d.LastWriteTimeUtc)
            .Skip(CopiesKept - 1);
        foreach (var folder in stale)
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use by another build or a test run: left for the next one.
            }
        }
    }

    /// <summary>Replaces <paramref name="target"/> in a build output by a copy of <paramref name="prepared"/>: a new file moved into place, so a hard link to a package cache is never written through.</summary>
    public static void Replace(string prepared, string target)
    {
        var scratch = target + ".systematic-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            File.Copy(prepared, scratch, overwrite: true);
            File.Move(scratch, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(scratch))
            {
                File.Delete(scratch);
            }
        }
    }
}
