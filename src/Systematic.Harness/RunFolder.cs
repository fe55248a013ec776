namespace Systematic.Harness;

/// <summary>
/// The report folder's layout: a fresh run folder per run (a unique name), the <c>latest</c> link to the newest one
/// (<c>latest.txt</c> where links cannot be made), unique failure folders inside a run, and a writability check that
/// names the folder.
/// </summary>
internal static class RunFolder
{
    /// <summary>The name of the link to the newest run in a report folder.</summary>
    public const string LatestLink = "latest";

    /// <summary>The file naming the newest run where a link cannot be made.</summary>
    public const string LatestFile = "latest.txt";

    /// <summary>How many fresh names are tried before giving up (two runs in the same second rarely share a suffix).</summary>
    private const int CreateAttempts = 100;

    /// <summary>Fails with the folder's full path unless reports can be written there.</summary>
    public static void EnsureWritable(string outDir)
    {
        try
        {
            Directory.CreateDirectory(outDir);
            var probe = Path.Combine(outDir, $".write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new HarnessException($"Cannot write reports to {Path.GetFullPath(outDir)}: {e.Message}", e);
        }
    }

    /// <summary>Creates a run folder under <paramref name="outDir"/> named by the time and a random suffix; returns its id (name) and path.</summary>
    public static (string Id, string Dir) Create(string outDir)
    {
        EnsureWritable(outDir);
        for (var attempt = 0; attempt < CreateAttempts; attempt++)
        {
            var id = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}";
            var dir = Path.Combine(outDir, id);
            if (!Directory.Exists(dir))
            {
                EnsureWritable(dir);
                return (id, dir);
            }
        }

        throw new HarnessException($"Could not create a fresh run folder in {outDir}.");
    }

    /// <summary>Points <c>latest</c> in <paramref name="outDir"/> at the run <paramref name="runId"/> (a relative link, or <c>latest.txt</c>).</summary>
    public static void PointLatest(string outDir, string runId)
    {
        var link = Path.Combine(outDir, LatestLink);
        try
        {
            if (Directory.Exists(link) || File.Exists(link))
            {
                var info = new FileInfo(link);
                if (info.LinkTarget is not null || File.Exists(link))
                {
                    File.Delete(link);
                }
            }

            Directory.CreateSymbolicLink(link, runId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            AtomicFile.Write(Path.Combine(outDir, LatestFile), runId + Environment.NewLine);
        }
    }

    /// <summary>
    /// The run folder <paramref name="run"/> names: itself when it holds <paramref name="marker"/>, else the latest run of
    /// the report folder it is (its <c>latest</c> link, or <c>latest.txt</c> where links cannot be made).
    /// </summary>
    public static string Resolve(string run, string marker)
    {
        var latest = Path.Combine(run, LatestFile);
        return File.Exists(Path.Combine(run, marker)) ? run
            : !Directory.Exists(Path.Combine(run, LatestLink)) && File.Exists(latest) ? Path.Combine(run, File.ReadAllText(latest).Trim())
            : Path.Combine(run, LatestLink);
    }

    /// <summary>
    /// Gives a failure folder made as <c>name-2</c> (<see cref="Unique"/>: another part of the same test held
    /// <c>name</c>, since dropped) its name back, rewriting the paths its documents hold (its replay commands); returns its path.
    /// </summary>
    public static string Reclaim(string folder)
    {
        var name = System.Text.RegularExpressions.Regex.Replace(Path.GetFileName(folder), @"-\d+$", "");
        var wanted = Path.Combine(Path.GetDirectoryName(folder)!, name);
        if (string.Equals(Path.GetFileName(folder), name, StringComparison.Ordinal) || Directory.Exists(wanted))
        {
            return folder;
        }

        Directory.Move(folder, wanted);
        foreach (var file in Directory.EnumerateFiles(wanted).Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            var moved = text.Replace(folder, wanted, StringComparison.Ordinal)
                .Replace(folder.Replace("\\", "\\\\", StringComparison.Ordinal), wanted.Replace("\\", "\\\\", StringComparison.Ordinal), StringComparison.Ordinal);
            if (moved != text)
            {
                AtomicFile.Write(file, moved);
            }
        }

        return wanted;
    }

    /// <summary>Creates a folder named <paramref name="name"/> under <paramref name="parent"/>, or <c>name-2</c>, <c>name-3</c>, ... when taken; returns its path.</summary>
    public static string Unique(string parent, string name)
    {
        for (var i = 0; ; i++)
        {
            var candidate = Path.Combine(parent, i == 0 ? name : $"{name}-{i + 1}");
            if (!Directory.Exists(candidate))
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
        }
    }
}
