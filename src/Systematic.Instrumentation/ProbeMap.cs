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

    public static bool IsCoyoteType(TypeReference type) => ProbeTypes.ContainsKey(IlEditing.ElementName(type));

    public Probe? Find(MethodReference called)
    {
        var element = called is GenericInstanceMethod gim ? gim.ElementMethod : called;
        var key = Key(IlEditing.ElementName(called.DeclaringType), element.Name, element.Parameters.Select(p => p.ParameterType));
        return this.probes.TryGetValue(key, out var probe) ? probe : null;
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
                Method(typeof(AsyncProbes), nameof(AsyncProbes.AwaitedCall)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.Completed)),
                Method(typeof(TestProbes), nameof(TestProbes.Begin)),
                Method(typeof(TestProbes), nameof(TestProbes.End)),
                Method(typeof(TestProbes), nameof(TestProbes.EndAfter)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.EnterCallerSite)),
                Method(typeof(AsyncProbes), nameof(AsyncProbes.ExitCallerSite))),
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

/// <summary>The probes placed around async methods and tests.</summary>
internal sealed record AsyncProbeMethods(
    MethodDefinition Enter,
    MethodDefinition Exit,
    MethodDefinition AwaitedCall,
    MethodDefinition Completed,
    MethodDefinition BeginTest,
    MethodDefinition EndTest,
    MethodDefinition EndTestAfter,
    MethodDefinition EnterCallerSite,
    MethodDefinition ExitCallerSite);
