using System.Text.Json;
using Mono.Cecil;

namespace Systematic.Instrumentation;

/// <summary>A lock or semaphore type from a package or the user's own code: which methods take a permit and which give one back.</summary>
/// <param name="Type">The type's full name (nested types with '/').</param>
/// <param name="Acquire">Method names that take a permit (every overload); a returned task not yet complete is a wait.</param>
/// <param name="Release">Method names that give one back; an integer first parameter is how many.</param>
/// <param name="Permits">Permits of a new instance: 1 for a lock, 0 to read its <c>CurrentCount</c> when it is created.</param>
/// <param name="Origin">Where it was declared (the attribute or the file), or null for the built-in table.</param>
internal sealed record PrimitiveSpec(string Type, IReadOnlyList<string> Acquire, IReadOnlyList<string> Release, int Permits, string? Origin = null);

/// <summary>
/// The synchronization primitives Systematic diagnoses as primitives, beyond the BCL's: a built-in table of common
/// packages, extended by <c>[assembly: SynchronizationPrimitive(...)]</c> on the test assembly and by a
/// <c>systematic.primitives.json</c> next to it. Their internals (the monitor and task completion sources they are
/// made of) are not recorded: the primitive is the resource.
/// </summary>
internal sealed class PrimitiveTable
{
    /// <summary>The file, next to the test assembly, that declares more primitives.</summary>
    public const string FileName = "systematic.primitives.json";

    private const string AttributeName = "Systematic.SynchronizationPrimitiveAttribute";

    private static readonly PrimitiveSpec[] BuiltIn =
    [
        new("Nito.AsyncEx.AsyncLock", ["LockAsync", "Lock"], ["ReleaseLock"], 1),
        new("Nito.AsyncEx.AsyncSemaphore", ["WaitAsync", "Wait", "LockAsync", "Lock"], ["Release"], 0),
        new("Microsoft.VisualStudio.Threading.AsyncSemaphore", ["EnterAsync"], ["Release"], 0),
    ];

    private readonly Dictionary<string, PrimitiveSpec> specs;

    private PrimitiveTable(IEnumerable<PrimitiveSpec> specs)
    {
        this.specs = new Dictionary<string, PrimitiveSpec>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            this.specs[spec.Type] = spec;
        }
    }

    /// <summary>Gets the built-in table alone.</summary>
    public static PrimitiveTable Default { get; } = new(BuiltIn);

    /// <summary>Gets every primitive of the table.</summary>
    public IReadOnlyCollection<PrimitiveSpec> Specs => this.specs.Values;

    /// <summary>
    /// The built-in table extended by the test assembly's <c>[assembly: SynchronizationPrimitive]</c> attributes and the
    /// <see cref="FileName"/> next to it. Throws <see cref="InvalidDataException"/> for a malformed file.
    /// </summary>
    public static PrimitiveTable For(string testAssembly)
    {
        var specs = new List<PrimitiveSpec>(BuiltIn);
        using (var module = ModuleDefinition.ReadModule(testAssembly, new ReaderParameters { ReadingMode = ReadingMode.Deferred }))
        {
            foreach (var attribute in module.Assembly.CustomAttributes.Where(a => a.AttributeType.FullName == AttributeName))
            {
                if (attribute.ConstructorArguments.FirstOrDefault().Value is not TypeReference type)
                {
                    continue;
                }

                string[] Strings(string name) => attribute.Properties.FirstOrDefault(p => p.Name == name).Argument.Value is CustomAttributeArgument[] values
                    ? values.Select(v => v.Value as string).OfType<string>().ToArray()
                    : [];
                var permits = attribute.Properties.FirstOrDefault(p => p.Name == "Permits").Argument.Value is int p ? p : 1;
                specs.Add(new PrimitiveSpec(type.FullName, Strings("Acquire"), Strings("Release"), permits, "[assembly: SynchronizationPrimitive]"));
            }
        }

        var file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(testAssembly))!, FileName);
        if (File.Exists(file))
        {
            specs.AddRange(ReadFile(file));
        }

        return new PrimitiveTable(specs);
    }

    /// <summary>The release names that mean "disposing what an acquire returned" (a releaser), for a type without such a method of its own.</summary>
    public static readonly IReadOnlySet<string> ReleaserNames = new HashSet<string>(StringComparer.Ordinal) { "Dispose", "DisposeAsync" };

    /// <summary>Gets the runtime names (nested types with '+') of the primitives released by disposing what an acquire returned, comma-separated, or null for none.</summary>
    public string? ReleasedByDisposing =>
        this.specs.Values.Where(s => s.Release.Any(ReleaserNames.Contains)).Select(s => s.Type.Replace('/', '+')).ToList() is { Count: > 0 } types ? string.Join(",", types) : null;

    /// <summary>Gets the primitives declared for these tests (not the built-in ones).</summary>
    public IReadOnlyList<PrimitiveSpec> Declared => this.specs.Values.Where(s => s.Origin is not null).ToList();

    /// <summary>
    /// Checks each declared primitive against the assemblies the tests reach: its type must be defined in one, and every
    /// acquire and release name must be a method of it. Returns one line per mistake (a misspelled name would otherwise
    /// leave the primitive unrecorded without a word).
    /// </summary>
    public IReadOnlyList<string> Check(IEnumerable<string> assemblies)
    {
        var declared = this.Declared;
        if (declared.Count == 0)
        {
            return [];
        }

        var found = MethodsOfDeclared(declared, assemblies);
        return declared.SelectMany(spec => Mistakes(spec, found)).ToList();
    }

    /// <summary>The method names of each declared type that the assemblies define: its own, and those it inherits from types of the same assembly.</summary>
    private static Dictionary<string, HashSet<string>> MethodsOfDeclared(IReadOnlyList<PrimitiveSpec> declared, IEnumerable<string> assemblies)
    {
        var found = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var path in assemblies)
        {
            try
            {
                using var module = ModuleDefinition.ReadModule(path, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
                foreach (var type in module.GetTypes().Where(t => declared.Any(d => d.Type == t.FullName)))
                {
                    var methods = found.TryGetValue(type.FullName, out var known) ? known : found[type.FullName] = new HashSet<string>(StringComparer.Ordinal);
                    for (TypeDefinition? t = type; t is not null; t = BaseInSameModule(t))
                    {
                        methods.UnionWith(t.Methods.Select(m => m.Name));
                    }
                }
            }
            catch (Exception e) when (e is BadImageFormatException or IOException)
            {
                // Not an assembly this check can read: the closure reports it.
            }
        }

        return found;
    }

    private static TypeDefinition? BaseInSameModule(TypeDefinition type)
    {
        try
        {
            return type.BaseType?.Resolve() is { } b && b.Module == type.Module ? b : null;
        }
        catch (AssemblyResolutionException)
        {
            return null;
        }
    }

    /// <summary>The mistakes in one declaration: a type no assembly defines, or an acquire or release name it has no method for.</summary>
    private static IEnumerable<string> Mistakes(PrimitiveSpec spec, Dictionary<string, HashSet<string>> found)
    {
        if (!found.TryGetValue(spec.Type, out var methods))
        {
            return [$"{spec.Origin} declares {spec.Type.Replace('/', '+')}, which no assembly the tests reach defines."];
        }

        // "Dispose" on a type without one: disposing the releaser an acquire returned gives the permit back.
        return spec.Acquire.Concat(spec.Release.Where(r => !ReleaserNames.Contains(r))).Where(n => !methods.Contains(n)).Select(name =>
        {
            var candidates = methods.Where(m => !m.StartsWith('.') && !m.Contains('<', StringComparison.Ordinal) && !m.StartsWith("get_", StringComparison.Ordinal) && !m.StartsWith("set_", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
            return $"{spec.Origin} declares {name} on {spec.Type.Replace('/', '+')}, which has no such method (it has {string.Join(", ", candidates)}).";
        });
    }

    /// <summary>Rebuilds a table from its specs (as a prepared copy records them).</summary>
    public static PrimitiveTable Of(IEnumerable<PrimitiveSpec> specs) => new(specs);

    /// <summary>Returns the primitive <paramref name="type"/> is, or is nested in, or null.</summary>
    public PrimitiveSpec? Owning(TypeReference type)
    {
        for (TypeReference? t = type; t is not null; t = t.DeclaringType)
        {
            if (this.specs.TryGetValue(IlEditing.ElementName(t), out var spec))
            {
                return spec;
            }
        }

        return null;
    }

    /// <summary>Returns the primitive whose type is exactly <paramref name="type"/>, or null.</summary>
    public PrimitiveSpec? Of(TypeReference type) => this.specs.GetValueOrDefault(IlEditing.ElementName(type));

    private static readonly JsonSerializerOptions FileOptions = new() { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static List<PrimitiveSpec> ReadFile(string file)
    {
        try
        {
            var entries = JsonSerializer.Deserialize<List<FileEntry>>(File.ReadAllText(file), FileOptions)
                ?? [];
            return entries.Select((e, i) => e.Type is { Length: > 0 } type && e.Acquire is { Length: > 0 } && e.Release is { Length: > 0 }
                ? new PrimitiveSpec(type.Replace('+', '/'), e.Acquire, e.Release, e.Permits ?? 1, FileName)
                : throw new InvalidDataException($"{file}: entry {i + 1} needs \"type\", \"acquire\" and \"release\"."))
                .ToList();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} is not valid JSON: {e.Message.Split('\n')[0]}");
        }
    }

    private sealed record FileEntry(string? Type, string[]? Acquire, string[]? Release, int? Permits);
}
