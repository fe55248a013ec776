using System.Reflection;
using System.Security.Cryptography;
using Mono.Cecil;
using Systematic.Instrumentation;
using Systematic.Recording;

namespace Systematic.Harness;

/// <summary>
/// An assembly ready to run: a copy of its build output in a cache folder, rewritten by Coyote when it was not,
/// instrumented with Systematic's probes, and loaded. The user's build output is never modified.
/// </summary>
public sealed class PreparedAssembly
{
    private const string TestAttribute = "Microsoft.Coyote.SystematicTesting.TestAttribute";

    /// <summary>Bumped whenever the layout of a prepared copy changes, so stale cached copies are not reused.</summary>
    private const string PreparationVersion = "2";

    private PreparedAssembly(string source, string path, IReadOnlyList<string> notes)
    {
        this.SourcePath = source;
        this.Path = path;
        this.Notes = notes;
    }

    /// <summary>Gets the assembly the user named.</summary>
    public string SourcePath { get; }

    /// <summary>Gets the instrumented copy that actually runs (what <c>coyote replay</c> must be pointed at).</summary>
    public string Path { get; }

    /// <summary>Gets what preparation did, one line each (e.g. "rewritten by coyote into the cache").</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Gets the tests found, in declaration order.</summary>
    public IReadOnlyList<TestCase> Tests { get; private set; } = [];

    /// <summary>Prepares <paramref name="assemblyPath"/>, caching the instrumented copy under <paramref name="cacheRoot"/>.</summary>
    public static PreparedAssembly Prepare(string assemblyPath, string cacheRoot)
    {
        var source = System.IO.Path.GetFullPath(assemblyPath);
        if (!File.Exists(source))
        {
            throw new HarnessException($"Assembly not found: {assemblyPath}");
        }

        CheckIsManagedAssembly(source);
        var notes = new List<string>();
        string path;
        if (Instrumenter.IsInstrumented(source))
        {
            path = source;
            notes.Add("already instrumented by Systematic: used as is");
        }
        else
        {
            path = PrepareCopy(source, System.IO.Path.GetFullPath(cacheRoot), notes);
        }

        return Load(source, path, notes);
    }

    /// <summary>
    /// Loads a copy this class already prepared (<paramref name="path"/>, made from <paramref name="source"/>), without
    /// checking or instrumenting it again: for a worker process or a replay of a run that prepared it.
    /// </summary>
    internal static PreparedAssembly Open(string path, string source)
    {
        if (!File.Exists(path))
        {
            throw new HarnessException($"The assembly that ran is gone: {path} (re-run `systematic test` to recreate it).");
        }

        return Load(System.IO.Path.GetFullPath(source), System.IO.Path.GetFullPath(path), ["prepared by the run"]);
    }

    private static PreparedAssembly Load(string source, string path, IReadOnlyList<string> notes)
    {
        var prepared = new PreparedAssembly(source, path, notes);
        prepared.Tests = prepared.Discover();
        if (prepared.Tests.Count == 0)
        {
            throw new HarnessException($"No Coyote [Test] methods found in {System.IO.Path.GetFileName(source)}.");
        }

        return prepared;
    }

    private static void CheckIsManagedAssembly(string path)
    {
        try
        {
            using var module = ModuleDefinition.ReadModule(path, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
            var framework = module.Assembly.CustomAttributes
                .FirstOrDefault(a => a.AttributeType.FullName == "System.Runtime.Versioning.TargetFrameworkAttribute")?
                .ConstructorArguments.FirstOrDefault().Value as string;
            if (framework is not null && !framework.StartsWith(".NETCoreApp", StringComparison.Ordinal) && !framework.StartsWith(".NETStandard", StringComparison.Ordinal))
            {
                throw new HarnessException($"{System.IO.Path.GetFileName(path)} targets {framework}; Systematic runs .NET (Core) 8+ assemblies.");
            }

            if (!module.GetTypes().SelectMany(t => t.Methods).Any(m => m.CustomAttributes.Any(a => a.AttributeType.FullName == TestAttribute)))
            {
                throw new HarnessException($"No Coyote [Test] methods found in {System.IO.Path.GetFileName(path)}.");
            }

            if (framework is not null && framework.Contains("Version=v", StringComparison.Ordinal) &&
                Version.TryParse(framework[(framework.IndexOf("Version=v", StringComparison.Ordinal) + 9)..], out var version) &&
                version.Major > Environment.Version.Major)
            {
                throw new HarnessException($"{System.IO.Path.GetFileName(path)} targets {framework}, newer than this runtime (.NET {Environment.Version.Major}).");
            }
        }
        catch (BadImageFormatException)
        {
            throw new HarnessException($"Not a .NET assembly: {path}");
        }
        catch (IOException e)
        {
            throw new HarnessException($"Cannot read {path}: {e.Message}");
        }
    }

    private static string PrepareCopy(string source, string cacheRoot, List<string> notes)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(source);
        var key = Hash(source);
        var folder = System.IO.Path.Combine(cacheRoot, $"{name}-{key}");
        var target = System.IO.Path.Combine(folder, System.IO.Path.GetFileName(source));
        if (File.Exists(System.IO.Path.Combine(folder, ".complete")))
        {
            notes.Add($"instrumented copy reused from {folder}");
            return target;
        }

        // Build in a scratch folder and move it into place whole, so a half-made copy never looks complete.
        var scratch = folder + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            CopyDirectory(System.IO.Path.GetDirectoryName(source)!, scratch);
            var copy = System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(source));
            if (!Instrumenter.IsCoyoteRewritten(copy))
            {
                CoyoteCli.Rewrite(copy);
                notes.Add("not rewritten by Coyote: a copy was rewritten with `coyote rewrite`");
            }

            foreach (var shared in new[] { typeof(Recorder).Assembly, typeof(FailureKind).Assembly })
            {
                File.Copy(shared.Location, System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(shared.Location)), overwrite: true);
            }

            var instrumented = copy + ".instrumented";
            var result = Instrumenter.Instrument(copy, instrumented);
            File.Move(instrumented, copy, overwrite: true);
            var pdb = System.IO.Path.ChangeExtension(instrumented, ".pdb");
            if (File.Exists(pdb))
            {
                File.Move(pdb, System.IO.Path.ChangeExtension(copy, ".pdb"), overwrite: true);
            }

            DependencyManifest.Complete(copy);
            notes.Add($"instrumented into {folder}: {result.ProbedCalls} probed calls, {result.AsyncMethods} async methods, {result.Tests} tests");
            File.WriteAllText(System.IO.Path.Combine(scratch, ".complete"), source);
            try
            {
                Directory.Move(scratch, folder);
            }
            catch (IOException) when (File.Exists(System.IO.Path.Combine(folder, ".complete")))
            {
                // Another run prepared the same copy first: use theirs.
                Directory.Delete(scratch, recursive: true);
            }

            return target;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HarnessException($"Cannot write the assembly cache at {cacheRoot}: {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private static string Hash(string source)
    {
        using var sha = SHA256.Create();
        var bytes = File.ReadAllBytes(source);
        sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        var recording = File.ReadAllBytes(typeof(Recorder).Assembly.Location);
        sha.TransformBlock(recording, 0, recording.Length, null, 0);
        var version = System.Text.Encoding.UTF8.GetBytes($"{Instrumenter.Version}/{PreparationVersion}");
        sha.TransformFinalBlock(version, 0, version.Length);
        return Convert.ToHexString(sha.Hash!)[..12].ToLowerInvariant();
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, System.IO.Path.Combine(to, System.IO.Path.GetFileName(file)));
        }

        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (name is not ("coyote-reports" or ".systematic"))
            {
                CopyDirectory(dir, System.IO.Path.Combine(to, name));
            }
        }
    }

    private List<TestCase> Discover()
    {
        Assembly assembly;
        try
        {
            var context = new TestLoadContext(System.IO.Path.GetDirectoryName(this.Path)!);
            assembly = context.LoadFromAssemblyPath(this.Path);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException)
        {
            throw new HarnessException($"Cannot load {System.IO.Path.GetFileName(this.SourcePath)}: {e.Message}", e);
        }

        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types.Where(t => t is not null).ToArray()!;
        }

        var tests = new List<TestCase>();
        foreach (var type in types.OrderBy(t => t.MetadataToken))
        {
            var pattern = type.GetCustomAttribute<PatternAttribute>() is { } p ? new PatternInfo(p.Title, p.Problem, p.Cause, p.Fix) : null;
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(m => m.MetadataToken))
            {
                if (method.CustomAttributes.Any(a => a.AttributeType.FullName == TestAttribute))
                {
                    var expected = method.GetCustomAttribute<ExpectedFailureAttribute>()?.Kind;
                    tests.Add(new TestCase($"{type.FullName}.{method.Name}", method, expected, pattern, this));
                }
            }
        }

        return tests;
    }
}
