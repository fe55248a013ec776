using Mono.Cecil;
using Systematic.Harness.Reports;
using Systematic.Instrumentation;

namespace Systematic.Harness.Preparation;

/// <summary>What preparation does with one assembly the tests reach.</summary>
internal enum PreparationAction
{
    /// <summary>Rewritten by Coyote (together with the rest of the set) and instrumented with Systematic's probes.</summary>
    Rewritten,

    /// <summary>Already rewritten by Coyote: instrumented only.</summary>
    Instrumented,

    /// <summary>Already instrumented by Systematic: used as it is.</summary>
    UsedAsIs,

    /// <summary>Not prepared: its code runs uncontrolled (see the reason).</summary>
    LeftAlone,
}

/// <summary>One assembly the tests reach, where it comes from, and what preparation does with it and why.</summary>
/// <param name="Name">The assembly's simple name.</param>
/// <param name="Action">What preparation does with it.</param>
/// <param name="Reason">Why, in a few words.</param>
/// <param name="Path">The file it is read from (the test folder or the NuGet package cache), or null when none was found.</param>
internal sealed record AssemblyDecision(string Name, PreparationAction Action, string Reason, string? Path = null)
{
    /// <summary>Gets whether its code runs controlled and recorded.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsPrepared => this.Action != PreparationAction.LeftAlone;

    /// <summary>Gets whether this entry is a warning for the user (an assembly that should have been prepared and could not be).</summary>
    public bool IsWarning { get; init; }

    /// <summary>Gets whether the file comes from outside the test folder (a package in the NuGet cache).</summary>
    public bool FromPackageCache { get; init; }

    /// <summary>Gets whether it comes from a NuGet package (not a project of the user's).</summary>
    public bool IsPackage { get; init; }

    /// <summary>Gets one line for the console.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Line => this.Action switch
    {
        PreparationAction.Rewritten => $"{this.Warning}rewritten: {this.Name} ({(this.IsPackage ? "package; " : "")}{this.Reason})",
        PreparationAction.Instrumented => $"{this.Warning}instrumented: {this.Name} ({(this.IsPackage ? "package; " : "")}{this.Reason})",
        PreparationAction.UsedAsIs => $"{this.Warning}used as is: {this.Name} ({this.Reason})",
        _ => $"{this.Warning}left alone: {this.Name} ({this.Reason})",
    };

    private string Warning => this.IsWarning ? "warning: " : "";
}

/// <summary>
/// The assemblies a test assembly can reach: itself and, transitively, every assembly it references that is in its
/// folder (project references, copied packages) or that its <c>.deps.json</c> places in the NuGet package cache. Each
/// gets a decision: prepared (rewritten by Coyote and instrumented) or left alone, with the reason. Nothing is written.
/// </summary>
internal static class AssemblyClosure
{
    /// <summary>The assembly of the Systematic.Testing package: it runs explorations, it is never explored.</summary>
    internal const string TestingPackage = "Systematic.Testing";

    private static readonly string[] TestFrameworkPrefixes =
    [
        "xunit", "nunit", "NUnit3.TestAdapter", "MSTest", "Microsoft.VisualStudio.TestPlatform", "Microsoft.TestPlatform",
        "Microsoft.Testing.", "Microsoft.VisualStudio.CodeCoverage", "Microsoft.CodeCoverage", "testhost", "Microsoft.NET.Test.Sdk",
        "coverlet", "Microsoft.VisualStudio.TraceDataCollector", "Microsoft.Coyote",
    ];

    /// <summary>The assemblies of Microsoft.NETCore.App: the runtime always loads its own.</summary>
    private static readonly Lazy<HashSet<string>> FrameworkNames = new(() => ReadFrameworkNames(core: true));

    /// <summary>The assemblies of the other shared frameworks (ASP.NET Core, ...): framework only when no copy of their own is in the folder.</summary>
    private static readonly Lazy<HashSet<string>> OtherFrameworkNames = new(() => ReadFrameworkNames(core: false));

    /// <summary>Finds and decides the closure of <paramref name="testAssembly"/>.</summary>
    /// <returns>The decisions: the test assembly first, then the others in the order they were reached.</returns>
    public static IReadOnlyList<AssemblyDecision> Scan(string testAssembly, PreparationOptions options)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(testAssembly))!;
        var packages = PackageAssets.Read(testAssembly);
        var config = RewriteConfiguration.Find(folder);
        var decisions = new List<AssemblyDecision>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var queue = new Queue<(string Name, string? ReferencedBy)>();
        var testName = System.IO.Path.GetFileNameWithoutExtension(testAssembly);
        queue.Enqueue((testName, null));
        seen.Add(testName);
        void Add(AssemblyDecision decision) => decisions.Add(decision with { IsPackage = packages.Packages.Contains(decision.Name) });

        while (queue.Count > 0)
        {
            var (name, referencedBy) = queue.Dequeue();
            var isTest = referencedBy is null;
            var local = System.IO.Path.Combine(folder, name + ".dll");
            var path = isTest ? System.IO.Path.GetFullPath(testAssembly) : File.Exists(local) ? local : packages.CacheFiles.GetValueOrDefault(name);
            var fromCache = path is not null && !isTest && !File.Exists(local);

            if (!isTest && LeftAloneBecause(name, path, options, config) is { } reason)
            {
                Add(new AssemblyDecision(name, PreparationAction.LeftAlone, reason, path));
                continue;
            }

            if (path is null)
            {
                throw new HarnessException(
                    $"{name}.dll, referenced by {referencedBy}, is neither in {folder} nor in the NuGet package cache: rebuild the tests, or leave it out with --exclude {name}.");
            }

            var (decision, references) = Inspect(name, path, isTest, referencedBy);
            Add(decision with { FromPackageCache = fromCache });
            if (!decision.IsPrepared)
            {
                continue;
            }

            foreach (var reference in references)
            {
                if (seen.Add(reference))
                {
                    queue.Enqueue((reference, name));
                }
            }
        }

        return decisions;
    }

    /// <summary>Systematic's own assemblies: they run explorations and record them, they are never explored.</summary>
    private static readonly HashSet<string> OwnAssemblies = new(StringComparer.OrdinalIgnoreCase)
    {
        typeof(Recording.Recorder).Assembly.GetName().Name!, typeof(FailureKind).Assembly.GetName().Name!, typeof(AssemblyClosure).Assembly.GetName().Name!,
        typeof(Analysis.Diagnosis).Assembly.GetName().Name!, typeof(Instrumentation.Instrumenter).Assembly.GetName().Name!, TestingPackage,
    };

    /// <summary>Why an assembly the tests reach is left alone by name (the framework, Systematic, Coyote, a test framework, the options, a <c>rewrite.coyote.json</c>), or null to look at it.</summary>
    private static string? LeftAloneBecause(string name, string? path, PreparationOptions options, RewriteConfiguration? config) =>
        IsFramework(name) || (path is null && OtherFrameworkNames.Value.Contains(name)) ? "framework"
        : OwnAssemblies.Contains(name) ? "Systematic's own"
        : CoyoteIgnores(name) ? "Coyote's rewriter never rewrites it"
        : IsTestFramework(name) ? (name.StartsWith("Microsoft.Coyote", StringComparison.OrdinalIgnoreCase) ? "Coyote" : "test framework")
        : options.Excludes(name) is { } exclude ? $"excluded by --exclude {exclude}"
        : !options.Includes(name) ? "not matched by any --include"
        : config?.Leaves(name);

    /// <summary>Reads what the assembly is (and whom it references) and decides whether it can be prepared.</summary>
    private static (AssemblyDecision Decision, IReadOnlyList<string> References) Inspect(string name, string path, bool isTest, string? referencedBy)
    {
        ModuleDefinition module;
        try
        {
            module = ModuleDefinition.ReadModule(path, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw new HarnessException(isTest
                ? e is IOException ? $"Cannot read {path}: {e.Message}" : $"Not a .NET assembly: {path}"
                : $"{path}, referenced by {referencedBy}, is not a readable .NET assembly ({OneLine(e.Message)}): rebuild the tests, or leave it out with --exclude {name}.");
        }

        using (module)
        {
            var references = module.AssemblyReferences.Select(r => r.Name).ToList();
            if (module.Assembly.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.ReferenceAssemblyAttribute"))
            {
                return (new AssemblyDecision(name, PreparationAction.LeftAlone, "a reference assembly: metadata only, no code to rewrite", path) { IsWarning = true }, []);
            }

            if ((module.Attributes & ModuleAttributes.ILOnly) == 0)
            {
                return (new AssemblyDecision(name, PreparationAction.LeftAlone, "mixed-mode (native code): Coyote cannot rewrite it", path) { IsWarning = true }, []);
            }

            if (Instrumenter.IsInstrumented(module))
            {
                return (new AssemblyDecision(name, PreparationAction.UsedAsIs, "already instrumented by Systematic", path), references);
            }

            if (Instrumenter.IsCoyoteRewritten(module))
            {
                return (new AssemblyDecision(name, PreparationAction.Instrumented, "already rewritten by Coyote", path), references);
            }

            return (new AssemblyDecision(name, PreparationAction.Rewritten, isTest ? "the test assembly" : "reached from the tests", path), references);
        }
    }

    /// <summary>Assemblies on Coyote 1.7.11's own ignore list (<c>RewritingOptions</c>) that are not Coyote's or a test platform's.</summary>
    private static bool CoyoteIgnores(string name) => name.Equals("Newtonsoft.Json", StringComparison.OrdinalIgnoreCase);

    internal static bool IsTestFramework(string name) =>
        TestFrameworkPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));

    private static bool IsFramework(string name) =>
        name is "netstandard" or "mscorlib" or "System.Private.CoreLib" ||
        (FrameworkNames.Value.Count > 0
            ? FrameworkNames.Value.Contains(name)
            : name == "System" || name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.Win32.", StringComparison.Ordinal));

    /// <summary>The names of every assembly of the shared frameworks of the running major version: Microsoft.NETCore.App (<paramref name="core"/>) or the others.</summary>
    private static HashSet<string> ReadFrameworkNames(bool core)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var version in SharedFrameworkFolders(core, newestOnly: false))
        {
            foreach (var dll in Directory.EnumerateFiles(version, "*.dll"))
            {
                names.Add(System.IO.Path.GetFileNameWithoutExtension(dll));
            }
        }

        return names;
    }

    /// <summary>
    /// The folders of the shared frameworks other than Microsoft.NETCore.App (ASP.NET Core, Windows Desktop) of the running
    /// major version, the newest of each: where Coyote's rewriter finds what a library with a <c>FrameworkReference</c>
    /// references (its build output has none of it).
    /// </summary>
    internal static IReadOnlyList<string> OtherSharedFrameworks { get; } = SharedFrameworkFolders(core: false, newestOnly: true);

    private static List<string> SharedFrameworkFolders(bool core, bool newestOnly)
    {
        var runtime = System.IO.Path.GetDirectoryName(typeof(object).Assembly.Location);
        var shared = runtime is null ? null : Directory.GetParent(runtime)?.Parent;
        if (shared is null || !shared.Exists)
        {
            return [];
        }

        var major = Environment.Version.Major.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";
        var folders = new List<string>();
        foreach (var framework in shared.EnumerateDirectories().Where(f => (f.Name == "Microsoft.NETCore.App") == core))
        {
            var versions = framework.EnumerateDirectories().Where(v => v.Name.StartsWith(major, StringComparison.Ordinal))
                .OrderByDescending(v => Version.TryParse(v.Name.Split('-')[0], out var parsed) ? parsed : new Version(0, 0))
                .Select(v => v.FullName)
                .ToList();
            folders.AddRange(newestOnly ? versions.Take(1) : versions);
        }

        return folders;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
