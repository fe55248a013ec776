using Mono.Cecil;
using Systematic.Recording;

namespace Systematic.Instrumentation;

/// <summary>Which probe stands in for which of Coyote's controlled entry points, matched by name and parameter shape.</summary>
internal sealed class ProbeMap
{
    private static readonly Dictionary<string, Type> ProbeTypes = new(StringComparer.Ordinal)
    {
        ["Microsoft.Coyote.Rewriting.Types.Threading.SemaphoreSlim"] = typeof(SemaphoreSlimProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Monitor"] = typeof(MonitorProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Thread"] = typeof(ThreadProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task"] = typeof(TaskProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task`1"] = typeof(TaskProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskFactory"] = typeof(TaskFactoryProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskFactory`1"] = typeof(TaskFactoryProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.ValueTask"] = typeof(ValueTaskProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.ValueTask`1"] = typeof(ValueTaskProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskCompletionSource"] = typeof(TaskCompletionProbes),
        ["Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskCompletionSource`1"] = typeof(TaskCompletionProbes),

        // What Coyote 1.7.11 leaves uncontrolled on .NET 9+, that Systematic controls itself.
        ["System.Threading.Lock"] = typeof(LockProbes),
        ["System.Threading.Lock/Scope"] = typeof(LockProbes),
        ["System.Threading.Tasks.Task"] = typeof(SpanTaskProbes),

        // Left to real time by Coyote: a timeout's timer.
        ["System.Threading.CancellationTokenSource"] = typeof(CancellationProbes),
    };

    private readonly Dictionary<string, Probe> probes = new(StringComparer.Ordinal);

    public ProbeMap(ModuleDefinition recording)
    {
        foreach (var (coyoteType, probeType) in ProbeTypes)
        {
            var type = recording.GetType(probeType.FullName) ?? throw new InvalidOperationException($"Probe type {probeType.FullName} is missing from {recording.FileName}.");
            foreach (var method in type.Methods.Where(m => m.IsPublic && m.IsStatic))
            {
                var parameters = method.Parameters;
                var extra = parameters.Count >= 2 && parameters[^1].Name == "hint" && parameters[^2].Name == "site" ? 2
                    : parameters.Count >= 1 && parameters[^1].Name == "site" ? 1 : 0;
                if (extra == 0)
                {
                    continue;
                }

                var key = Key(coyoteType, method.Name, parameters.Take(parameters.Count - extra).Select(p => p.ParameterType));
                this.probes.TryAdd(key, new Probe(method, extra == 2));
            }
        }
    }

    public AsyncProbeMethods Async { get; private init; } = null!;

    public PrimitiveProbeMethods Primitives { get; private init; } = null!;

    /// <summary>Gets the probe after <c>new object()</c> and <c>new Lock()</c>: where a lock object was made.</summary>
    public MethodDefinition LockCreated { get; private init; } = null!;

    /// <summary>Gets the probe before a call into code Coyote does not control.</summary>
    public MethodDefinition UncontrolledCalled { get; private init; } = null!;

    /// <summary>Gets the probe after a semaphore that is a signal by its call sites is created.</summary>
    public MethodDefinition SignalCreated { get; private init; } = null!;

    /// <summary>Gets the probe after a <c>TaskCompletionSource</c> is constructed.</summary>
    public MethodDefinition CompletionSourceCreated { get; private init; } = null!;

    /// <summary>Returns whether calls on <paramref name="type"/> may have a probe: Coyote's controlled types, and the .NET 9+ types Systematic controls.</summary>
    public static bool IsProbedType(TypeReference type) => ProbeTypes.ContainsKey(IlEditing.ElementName(type));

    public Probe? Find(MethodReference called)
    {
        var element = called is GenericInstanceMethod gim ? gim.ElementMethod : called;
        IEnumerable<TypeReference> parameters = element.Parameters.Select(p => p.ParameterType);
        if (element.HasThis)
        {
            // An instance method of a BCL type: its probe takes the instance first (by reference for a struct).
            var self = IsValueType(element.DeclaringType) ? (TypeReference)new ByReferenceType(element.DeclaringType) : element.DeclaringType;
            parameters = parameters.Prepend(self);
        }

        var key = Key(IlEditing.ElementName(called.DeclaringType), element.Name, parameters);
        return this.probes.TryGetValue(key, out var probe) ? probe : null;
    }

    /// <summary>Finds the probe standing in for a constructor (a static <c>Create</c> with the constructor's parameters), if any.</summary>
    public Probe? FindConstructor(MethodReference constructor)
    {
        var key = Key(IlEditing.ElementName(constructor.DeclaringType), "Create", constructor.Parameters.Select(p => p.ParameterType));
        return constructor.Name == ".ctor" && this.probes.TryGetValue(key, out var probe) ? probe : null;
    }

    private static bool IsValueType(TypeReference type)
    {
        if (type.IsValueType)
        {
            return true;
        }

        try
        {
            return type.Resolve()?.IsValueType ?? false;
        }
        catch (AssemblyResolutionException)
        {
            return false;
        }
    }

    public static ProbeMap Load(ModuleDefinition recording)
    {
        TypeDefinition Type(Type t) => recording.GetType(t.FullName) ?? throw new InvalidOperationException($"Probe type {t.FullName} is missing.");
        MethodDefinition Method(Type t, string name) => Type(t).Methods.Single(m => m.Name == name);
        return new ProbeMap(recording)
        {
            Async = new AsyncProbeMethods(
                Method(typeof(AsyncProbes), nameof(AsyncProbes.Enter)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.Exit)),
                Type(typeof(AsyncProbes)).Methods.Single(m => m.Name == nameof(AsyncProbes.ExitValueTask) && !m.HasGenericParameters),
                Type(typeof(AsyncProbes)).Methods.Single(m => m.Name == nameof(AsyncProbes.ExitValueTask) && m.HasGenericParameters),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.AwaitedCall)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.AwaitedCallReturned)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.Completed)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.Faulted)),
                Method(typeof(TestProbes), nameof(TestProbes.Begin)),
                Method(typeof(TestProbes), nameof(TestProbes.End)),
                Method(typeof(TestProbes), nameof(TestProbes.EndAfter)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.EnterCallerSite)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.ExitCallerSite))),
            LockCreated = Method(typeof(MonitorProbes), nameof(MonitorProbes.Created)),
            CompletionSourceCreated = Method(typeof(TaskCompletionProbes), nameof(TaskCompletionProbes.Created)),
            SignalCreated = Method(typeof(SemaphoreSlimProbes), nameof(SemaphoreSlimProbes.Signal)),
            UncontrolledCalled = Method(typeof(UncontrolledProbes), nameof(UncontrolledProbes.Called)),
            Primitives = new PrimitiveProbeMethods(
                Method(typeof(PrimitiveProbes), nameof(PrimitiveProbes.Created)),
                Method(typeof(PrimitiveProbes), nameof(PrimitiveProbes.BeginAcquire)),
                Type(typeof(PrimitiveProbes)).Methods.Single(m => m.Name == nameof(PrimitiveProbes.EndAcquire) && m.HasGenericParameters),
                Type(typeof(PrimitiveProbes)).Methods.Single(m => m.Name == nameof(PrimitiveProbes.EndAcquire) && !m.HasGenericParameters),
                Method(typeof(PrimitiveProbes), nameof(PrimitiveProbes.Released)),
                Method(typeof(PrimitiveProbes), nameof(PrimitiveProbes.Disposing))),
        };
    }


    private static string Key(string type, string name, IEnumerable<TypeReference> parameters)
    {
        // Task and Task`1 share one probe class: key by a common name.
        var owner = type.EndsWith("Tasks.Task`1", StringComparison.Ordinal) ? type[..^2] : type;
        return $"{owner}::{name}({string.Join(",", parameters.Select(IlEditing.Shape))})";
    }
}

/// <summary>A probe method and whether it takes a name hint after the site.</summary>
internal sealed record Probe(MethodDefinition Method, bool TakesHint);

/// <summary>The probes placed in and around the methods of known synchronization primitives.</summary>
internal sealed record PrimitiveProbeMethods(
    MethodDefinition Created,
    MethodDefinition BeginAcquire,
    MethodDefinition EndAcquire,
    MethodDefinition EndAcquireVoid,
    MethodDefinition Released,
    MethodDefinition Disposing);

/// <summary>The probes placed around async methods and tests.</summary>
internal sealed record AsyncProbeMethods(
    MethodDefinition Enter,
    MethodDefinition Exit,
    MethodDefinition ExitValueTask,
    MethodDefinition ExitValueTaskOf,
    MethodDefinition AwaitedCall,
    MethodDefinition AwaitedCallReturned,
    MethodDefinition Completed,
    MethodDefinition Faulted,
    MethodDefinition BeginTest,
    MethodDefinition EndTest,
    MethodDefinition EndTestAfter,
    MethodDefinition EnterCallerSite,
    MethodDefinition ExitCallerSite);
