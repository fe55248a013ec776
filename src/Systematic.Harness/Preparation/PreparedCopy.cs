using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Instrumentation;
using Systematic.Recording;

namespace Systematic.Harness.Preparation;

/// <summary>
/// The cached, prepared copy of a test assembly's folder: every assembly of its closure that can be prepared is
/// rewritten by one Coyote rewriting run and instrumented; the rest is copied as it is. Keyed by the content of every
/// assembly in the set, checked for damage when reused, and built aside then moved into place so a half-made copy is
/// never used. The user's build output is never modified.
/// </summary>
internal static class PreparedCopy
{
    /// <summary>The file in a prepared copy that lists what it holds; written last.</summary>
    public const string ManifestFile = "preparation.json";

    /// <summary>Bumped whenever the layout of a prepared copy changes, so stale cached copies are not reused.</summary>
    private const string Version = "3";

    /// <summary>Returns the prepared copy of <paramref name="source"/> (made now, or reused), its final decisions and a note of what happened.</summary>
    public static (string Path, IReadOnlyList<AssemblyDecision> Decisions, string Note) Get(string source, IReadOnlyList<AssemblyDecision> decisions, string cacheRoot, PreparationOptions options)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(source);
        var key = Key(source, decisions, options, cacheRoot);
        var folder = System.IO.Path.Combine(cacheRoot, $"{name}-{key}");
        var target = System.IO.Path.Combine(folder, System.IO.Path.GetFileName(source));
        string? damage = null;
        if (Directory.Exists(folder))
        {
            var manifest = PreparationManifest.TryRead(System.IO.Path.Combine(folder, ManifestFile));
            damage = manifest is null ? $"{ManifestFile} is missing or unreadable" : manifest.FindDamage(folder);
            if (damage is null)
            {
                return (target, manifest!.Assemblies, $"prepared copy reused from {folder}");
            }

            Discard(folder);
        }

        var (built, elapsed) = Build(source, decisions, folder, cacheRoot);
        var note = $"prepared into {folder} in {elapsed.TotalSeconds:0.0} s";
        return (target, built, damage is null ? note : $"the cached copy was damaged ({damage}): {note}");
    }

    private static (IReadOnlyList<AssemblyDecision> Decisions, TimeSpan Elapsed) Build(string source, IReadOnlyList<AssemblyDecision> decisions, string folder, string cacheRoot)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var scratch = folder + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(folder)!);
            CopyDirectory(System.IO.Path.GetDirectoryName(source)!, scratch, cacheRoot);
            CopyPackageAssemblies(source, scratch);
            var final = Rewrite(scratch, decisions);
            CopySharedAssemblies(scratch);
            var primitives = Primitives(source);
            CheckDeclarations(primitives, scratch, final);
            final = Instrument(scratch, final, primitives);
            DependencyManifest.Complete(System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(source)));
            MoveIntoPlace(scratch, folder, PreparationManifest.Describe(scratch, source, final));
            return (final, clock.Elapsed);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HarnessException($"Cannot write the assembly cache at {System.IO.Path.GetDirectoryName(folder)}: {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Discard(scratch);
            }
        }
    }

    /// <summary>Like <c>dotnet publish</c>: every package assembly the tests may load, prepared or not, next to them.</summary>
    private static void CopyPackageAssemblies(string source, string scratch)
    {
        foreach (var path in PackageAssets.Read(source).CacheFiles.Values)
        {
            if (!File.Exists(System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(path))))
            {
                CopyAssembly(path, scratch);
            }
        }
    }

    /// <summary>Systematic's recorder and annotations, which the prepared assemblies load.</summary>
    private static void CopySharedAssemblies(string scratch)
    {
        foreach (var shared in new[] { typeof(Recorder).Assembly, typeof(FailureKind).Assembly })
        {
            File.Copy(shared.Location, System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(shared.Location)), overwrite: true);
        }
    }

    /// <summary>Stops the run on the first mistake in the declared primitives, counting the others.</summary>
    private static void CheckDeclarations(PrimitiveTable primitives, string scratch, List<AssemblyDecision> final)
    {
        if (primitives.Check(final.Where(d => d.Path is not null).Select(d => System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(d.Path!))).Where(File.Exists)) is { Count: > 0 } problems)
        {
            throw new HarnessException(problems[0] + (problems.Count > 1 ? $" ({problems.Count - 1} more mistake(s) in the declarations)" : ""));
        }
    }

    /// <summary>Writes the manifest last, then moves the finished copy into place; another run's copy, moved first, is used instead.</summary>
    private static void MoveIntoPlace(string scratch, string folder, PreparationManifest manifest)
    {
        AtomicFile.Write(System.IO.Path.Combine(scratch, ManifestFile), JsonSerializer.Serialize(manifest, Json.Options));
        try
        {
            Directory.Move(scratch, folder);
        }
        catch (IOException) when (File.Exists(System.IO.Path.Combine(folder, ManifestFile)))
        {
            // Another run prepared the same copy first: use theirs.
        }
    }

    /// <summary>
    /// Rewrites every assembly of the set by one Coyote run. One the rewriter rejects is tried again without its PDB
    /// (a stale or damaged PDB is the usual cause), then left out with its reason; the rest are rewritten again.
    /// </summary>
    private static List<AssemblyDecision> Rewrite(string scratch, IReadOnlyList<AssemblyDecision> decisions)
    {
        var final = decisions.ToList();
        var withoutPdb = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var set = final.Where(d => d.Action == PreparationAction.Rewritten).ToList();
            if (set.Count == 0)
            {
                return final;
            }

            try
            {
                CoyoteRewriter.Rewrite(WriteConfiguration(scratch, set));
                KeepOwnCopiesOfCoyote(scratch, System.IO.Path.GetDirectoryName(decisions[0].Path!)!);
                return final;
            }
            catch (RewriteException e)
            {
                // Coyote replaces each assembly as it goes: put the originals back, find who it rejects, try again without them.
                // A failed run leaves the files it read open until they are finalized.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Restore(scratch, set, withoutPdb);
                var rejected = Culprits(scratch, set, e);
                Restore(scratch, set, withoutPdb);
                foreach (var (culprit, reason) in rejected)
                {
                    final[final.FindIndex(d => d.Name == culprit.Name)] = Rejected(scratch, culprit, reason, withoutPdb);
                }

                if (rejected.Count == 0)
                {
                    LeaveAllButTheTestsAlone(final, set, e);
                }
            }
        }

        throw new HarnessException($"Coyote's rewriter keeps failing on the assemblies of {System.IO.Path.GetFileName(decisions[0].Path)}.");
    }

    /// <summary>An assembly the rewriter rejects: tried again without its PDB the first time, left alone after.</summary>
    private static AssemblyDecision Rejected(string scratch, AssemblyDecision culprit, string reason, HashSet<string> withoutPdb)
    {
        var pdb = System.IO.Path.Combine(scratch, culprit.Name + ".pdb");
        if (withoutPdb.Add(culprit.Name) && File.Exists(pdb))
        {
            File.Delete(pdb);
            return culprit with { Reason = $"{culprit.Reason}; without source lines, as Coyote's rewriter cannot read its PDB ({reason})", IsWarning = true };
        }

        return culprit with { Action = PreparationAction.LeftAlone, Reason = $"Coyote's rewriter rejects it: {reason}", IsWarning = true };
    }

    /// <summary>Nothing alone fails: the set fails together. Leave every assembly but the tests uncontrolled rather than none.</summary>
    private static void LeaveAllButTheTestsAlone(List<AssemblyDecision> final, List<AssemblyDecision> set, RewriteException e)
    {
        foreach (var d in set.Skip(1))
        {
            var index = final.FindIndex(x => x.Name == d.Name);
            final[index] = d with { Action = PreparationAction.LeftAlone, Reason = $"Coyote's rewriter failed on the set: {e.Message}", IsWarning = true };
        }
    }

    /// <summary>
    /// Coyote's rewriter copies its own assemblies (and its telemetry's) into the folder it rewrites: where the build
    /// output had them, put back the user's files, so that only what preparation rewrote differs from the build.
    /// </summary>
    private static void KeepOwnCopiesOfCoyote(string scratch, string source)
    {
        foreach (var name in new[] { "Microsoft.Coyote.dll", "Microsoft.Coyote.Test.dll", "Microsoft.Coyote.Actors.dll", "Microsoft.ApplicationInsights.dll" })
        {
            var original = System.IO.Path.Combine(source, name);
            var copy = System.IO.Path.Combine(scratch, name);
            if (File.Exists(original) && File.Exists(copy))
            {
                File.Copy(original, copy, overwrite: true);
            }
        }
    }

    /// <summary>The assemblies of <paramref name="set"/> the rewriter rejects on their own, each with Coyote's message.</summary>
    private static List<(AssemblyDecision Decision, string Reason)> Culprits(string scratch, IReadOnlyList<AssemblyDecision> set, RewriteException failure)
    {
        var named = set.Where(d => failure.Message.Contains($"'{d.Name}.dll'", StringComparison.OrdinalIgnoreCase) || failure.Message.Contains($"'{d.Name}'", StringComparison.OrdinalIgnoreCase)).ToList();
        if (named.Count == 1)
        {
            return [(named[0], failure.Message)];
        }

        var culprits = new List<(AssemblyDecision, string)>();
        foreach (var d in set)
        {
            try
            {
                CoyoteRewriter.Rewrite(WriteConfiguration(scratch, [d], dryRunFolder: true));
            }
            catch (RewriteException e)
            {
                culprits.Add((d, e.Message));
            }
            finally
            {
                var dry = System.IO.Path.Combine(scratch, DryRunFolder);
                if (Directory.Exists(dry))
                {
                    Discard(dry);
                }
            }
        }

        return culprits;
    }

    private const string DryRunFolder = ".systematic-dry-run";

    private static string WriteConfiguration(string scratch, IReadOnlyList<AssemblyDecision> set, bool dryRunFolder = false)
    {
        var path = System.IO.Path.Combine(scratch, dryRunFolder ? ".systematic-dry-run.coyote.json" : "systematic." + RewriteConfiguration.FileName);
        var configuration = new Dictionary<string, object>
        {
            ["AssembliesPath"] = ".",
            ["Assemblies"] = set.Select(d => d.Name + System.IO.Path.GetExtension(d.Path ?? ".dll")).ToArray(),
        };
        if (AssemblyClosure.OtherSharedFrameworks.Count > 0)
        {
            // A library with a FrameworkReference (Microsoft.AspNetCore.App) references assemblies no build output holds.
            configuration["DependencySearchPaths"] = AssemblyClosure.OtherSharedFrameworks.ToArray();
        }
        if (dryRunFolder)
        {
            configuration["OutputPath"] = "./" + DryRunFolder;
        }

        File.WriteAllText(path, JsonSerializer.Serialize(configuration));
        return path;
    }

    private static void Restore(string scratch, IReadOnlyList<AssemblyDecision> set, HashSet<string> withoutPdb)
    {
        foreach (var d in set.Where(d => d.Path is not null))
        {
            CopyAssembly(d.Path!, scratch, withPdb: !withoutPdb.Contains(d.Name));
        }
    }

    private static PrimitiveTable Primitives(string source)
    {
        try
        {
            return PrimitiveTable.For(source);
        }
        catch (InvalidDataException e)
        {
            throw new HarnessException(e.Message, e);
        }
    }

    private static List<AssemblyDecision> Instrument(string scratch, List<AssemblyDecision> decisions, PrimitiveTable primitives)
    {
        var instrumented = decisions.Where(d => d.Action is PreparationAction.Rewritten or PreparationAction.Instrumented).Select(d => d.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var final = decisions.ToList();
        for (var i = 0; i < final.Count; i++)
        {
            var d = final[i];
            if (d.Action is not (PreparationAction.Rewritten or PreparationAction.Instrumented))
            {
                continue;
            }

            var copy = System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(d.Path!));

            // Written under its own name (in a folder of its own): the PDB path the assembly records must end in the
            // name the PDB has next to it, or stack traces and debuggers find no source lines.
            var output = System.IO.Path.Combine(scratch, ".instrumented", System.IO.Path.GetFileName(copy));
            try
            {
                var result = Instrumenter.Instrument(copy, output, instrumented, primitives);
                File.Move(output, copy, overwrite: true);
                var pdb = System.IO.Path.ChangeExtension(output, ".pdb");
                if (File.Exists(pdb))
                {
                    File.Move(pdb, System.IO.Path.ChangeExtension(copy, ".pdb"), overwrite: true);
                }

                final[i] = d with { Reason = $"{d.Reason}; {result.ProbedCalls} probed calls, {result.AsyncMethods} async methods{(result.Tests > 0 ? $", {result.Tests} tests" : "")}" };
            }
            catch (Exception e) when (e is InvalidOperationException or Mono.Cecil.AssemblyResolutionException or BadImageFormatException or NotSupportedException && i > 0)
            {
                // Rewritten but not instrumented: it still runs controlled, its events are just not recorded.
                final[i] = d with { Reason = $"{d.Reason}; not instrumented: {e.Message.Split('\n')[0]}", IsWarning = true };
            }
        }

        if (Directory.Exists(System.IO.Path.Combine(scratch, ".instrumented")))
        {
            Directory.Delete(System.IO.Path.Combine(scratch, ".instrumented"), recursive: true);
        }

        return final;
    }

    private static void CopyAssembly(string path, string folder, bool withPdb = true)
    {
        var copy = System.IO.Path.Combine(folder, System.IO.Path.GetFileName(path));
        if (File.Exists(copy))
        {
            // Unlinked first: a reader that still has the old file open keeps it, the copy is a new file.
            File.Delete(copy);
        }

        File.Copy(path, copy);
        var pdb = System.IO.Path.ChangeExtension(path, ".pdb");
        var target = System.IO.Path.Combine(folder, System.IO.Path.GetFileName(pdb));
        if (File.Exists(target))
        {
            File.Delete(target);
        }

        if (withPdb && File.Exists(pdb))
        {
            File.Copy(pdb, target);
        }
    }

    /// <summary>
    /// The cache key: the content of every assembly to prepare, the name, size and time of every other file of the
    /// folder, this build's probes and pass, and the options.
    /// </summary>
    private static string Key(string source, IReadOnlyList<AssemblyDecision> decisions, PreparationOptions options, string cacheRoot)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var folder = System.IO.Path.GetDirectoryName(source)!;
        var prepared = decisions.Where(d => d.IsPrepared && d.Path is not null).Select(d => System.IO.Path.GetFullPath(d.Path!)).ToHashSet(StringComparer.Ordinal);

        // A folder prepared in place has its prepared files (and their PDBs) written again by every build: by content.
        var symbols = prepared.Select(p => System.IO.Path.ChangeExtension(p, ".pdb")).ToHashSet(StringComparer.Ordinal);
        // Hidden files (a build's `.msCoverageSourceRootsMapping_*`, rewritten every time) and the in-place manifest do not count.
        foreach (var file in EnumerateFiles(folder, cacheRoot).Where(f => System.IO.Path.GetFileName(f) is var name && name != InPlaceManifest.FileName && !name.StartsWith('.')).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            Add(sha, System.IO.Path.GetRelativePath(folder, file));
            Add(sha, info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (prepared.Contains(file) || symbols.Contains(file))
            {
                AddFile(sha, file);
            }
            else
            {
                Add(sha, info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        foreach (var file in prepared.Where(p => !p.StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            Add(sha, file);
            AddFile(sha, file);
        }

        AddFile(sha, typeof(Recorder).Assembly.Location);
        AddFile(sha, typeof(Instrumenter).Assembly.Location);
        Add(sha, $"{Instrumenter.Version}/{Version}/{Replayer.CoyoteVersion}/{options.Key}");
        return Convert.ToHexString(sha.GetHashAndReset())[..12].ToLowerInvariant();

        static void Add(IncrementalHash hash, string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
    }

    private static void AddFile(IncrementalHash hash, string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
    }

    /// <summary>
    /// The files of a build output that a prepared copy holds: not report folders left in it, nor the folder that holds
    /// the cache itself (reports written into the build output).
    /// </summary>
    internal static IEnumerable<string> EnumerateFiles(string folder, string? cacheRoot = null)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            yield return file;
        }

        foreach (var dir in Directory.EnumerateDirectories(folder))
        {
            var full = System.IO.Path.GetFullPath(dir);
            var holdsCache = cacheRoot is not null && (cacheRoot == full || cacheRoot.StartsWith(full + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal));
            if (!holdsCache && System.IO.Path.GetFileName(dir) is not ("coyote-reports" or ".systematic" or ".assemblies"))
            {
                foreach (var file in EnumerateFiles(dir, cacheRoot))
                {
                    yield return file;
                }
            }
        }
    }

    private static void CopyDirectory(string from, string to, string cacheRoot)
    {
        Directory.CreateDirectory(to);
        foreach (var file in EnumerateFiles(from, cacheRoot).ToList())
        {
            var target = System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static void Discard(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leave what cannot be deleted; a fresh copy gets a fresh scratch name.
        }
    }
}
