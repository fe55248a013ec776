using System.Reflection;
using Mono.Cecil;
using Systematic.Harness.Preparation;
using Systematic.Instrumentation;

namespace Systematic.Harness;

/// <summary>
/// An assembly ready to run: a copy of its build output in a cache folder, rewritten by Coyote when it was not,
/// instrumented with Systematic's probes, and loaded. The user's build output is never modified.
/// </summary>
internal sealed class PreparedAssembly
{
    private const string TestAttribute = Instrumenter.CoyoteTestAttribute;

    /// <summary>Systematic.Testing's xunit attribute; preparation gives such methods Coyote's [Test] too.</summary>
    private const string SystematicFactAttribute = Instrumenter.SystematicFactAttribute;

    private PreparedAssembly(string source, string path, IReadOnlyList<string> notes, IReadOnlyList<AssemblyDecision> closure)
    {
        this.SourcePath = source;
        this.Path = path;
        this.Notes = notes;
        this.Closure = closure;
    }

    /// <summary>Gets the assembly the user named.</summary>
    public string SourcePath { get; }

    /// <summary>Gets the instrumented copy that actually runs (what <c>coyote replay</c> must be pointed at).</summary>
    public string Path { get; }

    /// <summary>Gets what preparation did, one line each (e.g. "prepared copy reused from ...").</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Gets every assembly the tests reach and what preparation did with it (empty for a copy opened as it is).</summary>
    public IReadOnlyList<AssemblyDecision> Closure { get; }

    /// <summary>Gets the tests found, in declaration order.</summary>
    public IReadOnlyList<TestCase> Tests { get; private set; } = [];

    /// <summary>
    /// Prepares <paramref name="assemblyPath"/> and every assembly it reaches (see <see cref="AssemblyClosure"/>), caching
    /// the prepared copy under <paramref name="cacheRoot"/>.
    /// </summary>
    public static PreparedAssembly Prepare(string assemblyPath, string cacheRoot, PreparationOptions? options = null)
    {
        options ??= PreparationOptions.Default;
        options.Validate();
        var source = System.IO.Path.GetFullPath(assemblyPath);
        if (!File.Exists(source))
        {
            throw new HarnessException($"Assembly not found: {assemblyPath}");
        }

        CheckIsManagedAssembly(source);
        if (Instrumenter.IsInstrumented(source))
        {
            return Load(source, source, ["already instrumented by Systematic: used as is"], []);
        }

        var closure = Scan(source, options);
        var (path, decisions, note) = PreparedCopy.Get(source, closure, System.IO.Path.GetFullPath(cacheRoot), options);
        var declared = Instrumentation.PrimitiveTable.For(source).Declared;
        return Load(source, path, declared.Count == 0 ? [note] : [note, $"primitives declared: {string.Join(", ", declared.Select(d => $"{d.Type.Replace('/', '+')} ({d.Origin})"))}"], decisions);
    }

    /// <summary>Finds the assemblies <paramref name="assemblyPath"/> reaches and what preparing it would do with each, without preparing anything.</summary>
    public static IReadOnlyList<AssemblyDecision> Scan(string assemblyPath, PreparationOptions? options = null)
    {
        options ??= PreparationOptions.Default;
        options.Validate();
        var closure = AssemblyClosure.Scan(assemblyPath, options);
        options.CheckMatches(closure.Select(d => d.Name).ToList(), System.IO.Path.GetFileName(assemblyPath));
        return closure;
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

        return Load(System.IO.Path.GetFullPath(source), System.IO.Path.GetFullPath(path), ["prepared by the run"], []);
    }

    /// <summary>
    /// Describes an assembly prepared where it is and already loaded in this process (a test project's output that the
    /// Systematic.Testing package prepared): its tests are explored as the test framework finds them, not discovered here.
    /// </summary>
    internal static PreparedAssembly InPlace(string path, IReadOnlyList<AssemblyDecision> closure) =>
        new(System.IO.Path.GetFullPath(path), System.IO.Path.GetFullPath(path), ["prepared in place by the Systematic.Testing build step"], closure);

    private static PreparedAssembly Load(string source, string path, IReadOnlyList<string> notes, IReadOnlyList<AssemblyDecision> closure)
    {
        var prepared = new PreparedAssembly(source, path, notes, closure);
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

            if (!module.GetTypes().SelectMany(t => t.Methods).Any(m => m.CustomAttributes.Any(a => a.AttributeType.FullName is TestAttribute or SystematicFactAttribute)))
            {
                throw new HarnessException($"No Coyote [Test] or [SystematicFact] methods found in {System.IO.Path.GetFileName(path)}.");
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

    private List<TestCase> Discover()
    {
        Assembly assembly;
        try
        {
            var context = new TestLoadContext(this.Path);
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
                    var expected = method.GetCustomAttribute<ExpectedFailureAttribute>()?.Kind ?? FactExpected(method);
                    tests.Add(new TestCase($"{type.FullName}.{method.Name}", method, expected, pattern, this));
                }
            }
        }

        return tests;
    }

    /// <summary>The failure kind a <c>[SystematicFact(Expected = ...)]</c> documents, read by name (the harness does not reference the package).</summary>
    private static FailureKind? FactExpected(MethodInfo method) =>
        method.CustomAttributes.FirstOrDefault(a => a.AttributeType.FullName == SystematicFactAttribute)?.NamedArguments
            .FirstOrDefault(n => n.MemberName == "Expected").TypedValue.Value is int kind && kind != 0 ? (FailureKind)kind : null;
}
