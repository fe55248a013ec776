using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Systematic.Instrumentation;

/// <summary>A call Coyote 1.7.11 does not control, where it is and what to use instead.</summary>
/// <param name="Api">The API, e.g. <c>Task.WhenAll(ReadOnlySpan&lt;Task&gt;)</c>.</param>
/// <param name="File">Source file, or the assembly name when there is no PDB.</param>
/// <param name="Line">Source line, or 0.</param>
/// <param name="Method">The method that makes the call (Type.Method).</param>
/// <param name="Alternative">The controlled alternative.</param>
internal sealed record DoctorFinding(string Api, string File, int Line, string Method, string Alternative)
{
    /// <summary>Gets <c>File.cs:41</c>, or the assembly's name for code without source lines.</summary>
    public string Site => this.Line > 0 ? new Systematic.Recording.SourceSite(this.File, this.Line, this.Method).Short : this.File;
}

/// <summary>
/// Lists the calls of an assembly (a plain build output or a Coyote-rewritten one) that Coyote 1.7.11 does not control:
/// they run outside the scheduler, so its exploration misses their interleavings and its traces may not reproduce.
/// </summary>
internal static class Doctor
{
    private static readonly (string Type, string? Method, string Api, string Alternative)[] Rules =
    [
        ("System.Threading.Tasks.Task", "WhenEach", "Task.WhenEach", "loop over Task.WhenAny with an array of the remaining tasks"),
        ("System.Threading.ReaderWriterLockSlim", null, "ReaderWriterLockSlim", "SemaphoreSlim(1, 1) or lock on a plain object"),
        ("System.Threading.ReaderWriterLock", null, "ReaderWriterLock", "SemaphoreSlim(1, 1) or lock on a plain object"),
        ("System.Threading.ManualResetEventSlim", null, "ManualResetEventSlim", "TaskCompletionSource (await its Task) or SemaphoreSlim(0)"),
        ("System.Threading.CountdownEvent", null, "CountdownEvent", "Task.WhenAll over an array of the tasks"),
        ("System.Threading.Barrier", null, "Barrier", "TaskCompletionSource per phase, or Task.WhenAll"),
        ("System.Threading.Mutex", null, "Mutex", "SemaphoreSlim(1, 1)"),
        ("System.Threading.Semaphore", null, "System.Threading.Semaphore", "SemaphoreSlim"),
        ("System.Threading.SpinLock", null, "SpinLock", "lock on a plain object"),
        ("System.Threading.SemaphoreSlim", "get_AvailableWaitHandle", "SemaphoreSlim.AvailableWaitHandle", "Wait/WaitAsync on the semaphore itself"),
        ("System.Threading.Timer", ".ctor", "System.Threading.Timer", "a Task.Run loop with await Task.Delay (controlled)"),
        ("System.Timers.Timer", ".ctor", "System.Timers.Timer", "a Task.Run loop with await Task.Delay (controlled)"),
        ("System.Threading.PeriodicTimer", ".ctor", "PeriodicTimer", "a Task.Run loop with await Task.Delay (controlled)"),
        ("System.Threading.ThreadPool", "QueueUserWorkItem", "ThreadPool.QueueUserWorkItem", "Task.Run"),
        ("System.Threading.ThreadPool", "UnsafeQueueUserWorkItem", "ThreadPool.UnsafeQueueUserWorkItem", "Task.Run"),
        ("System.Threading.ThreadPool", "RegisterWaitForSingleObject", "ThreadPool.RegisterWaitForSingleObject", "await a TaskCompletionSource's Task"),
        ("System.Threading.ThreadPool", "UnsafeRegisterWaitForSingleObject", "ThreadPool.UnsafeRegisterWaitForSingleObject", "await a TaskCompletionSource's Task"),
        ("System.Threading.SynchronizationContext", "Post", "SynchronizationContext.Post", "await, or Task.Run"),
        ("System.Threading.SynchronizationContext", "Send", "SynchronizationContext.Send", "a direct call"),
        ("System.Threading.Channels.Channel", null, "System.Threading.Channels", "a queue guarded by SemaphoreSlim (items) and a lock"),
        ("System.Threading.Tasks.Parallel", null, "System.Threading.Tasks.Parallel", "Task.Run per item and Task.WhenAll, with a SemaphoreSlim to bound how many run at once"),
        ("System.Collections.Generic.IAsyncEnumerable`1", "GetAsyncEnumerator", "await foreach over IAsyncEnumerable", "Coyote 1.7.11 does not control async iterators (a run may crash): return a Task<List<T>> or use a SemaphoreSlim-guarded queue"),
        ("System.Threading.Tasks.TaskAsyncEnumerableExtensions", "ConfigureAwait", "await foreach over IAsyncEnumerable", "Coyote 1.7.11 does not control async iterators (a run may crash): return a Task<List<T>> or use a SemaphoreSlim-guarded queue"),
    ];

    private static readonly HashSet<string> SharedStaticTypes = new(StringComparer.Ordinal)
    {
        "System.Threading.SemaphoreSlim", "System.Threading.Lock", "System.Threading.ReaderWriterLockSlim", "System.Threading.ManualResetEventSlim",
        "System.Threading.Tasks.TaskCompletionSource", "System.Threading.Tasks.TaskCompletionSource`1",
    };

    /// <summary>Examines <paramref name="assemblyPath"/>; findings are in source order.</summary>
    public static IReadOnlyList<DoctorFinding> Examine(string assemblyPath)
    {
        var (module, _) = ModuleReading.Read(assemblyPath, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
        using (module)
        {
            var findings = new List<DoctorFinding>();
            var staticFields = new HashSet<string>(StringComparer.Ordinal);
            foreach (var method in module.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (instruction.OpCode.FlowControl == FlowControl.Call && instruction.Operand is MethodReference called && Match(called) is { } rule)
                    {
                        findings.Add(Finding(method, instruction, rule.Api, rule.Alternative));
                    }
                    else if (instruction.OpCode == OpCodes.Stsfld && instruction.Operand is FieldReference field &&
                        HoldsShared(field.FieldType) && staticFields.Add(field.FullName))
                    {
                        findings.Add(Finding(method, instruction, $"static {Display(field.FieldType)} {Naming.TypeName(field.DeclaringType)}.{field.Name}",
                            "create it inside the test: an object shared across iterations is not controlled (Coyote fails when a semaphore outlives its iteration)"));
                    }
                }
            }

            return findings.OrderBy(f => f.File, StringComparer.Ordinal).ThenBy(f => f.Line).ToList();
        }
    }

    /// <summary>A type as C# spells it, with its type arguments: <c>ConcurrentDictionary&lt;string, SemaphoreSlim&gt;</c>.</summary>
    private static string Display(TypeReference type) => type switch
    {
        ArrayType array => Display(array.ElementType) + "[]",
        GenericInstanceType generic => $"{Naming.TypeName(generic)}<{string.Join(", ", generic.GenericArguments.Select(Display))}>",
        _ => type.FullName switch
        {
            "System.String" => "string",
            "System.Int32" => "int",
            "System.Int64" => "long",
            "System.Object" => "object",
            "System.Boolean" => "bool",
            _ => Naming.TypeName(type),
        },
    };

    /// <summary>Whether a field of this type shares a synchronization object across iterations: the object itself, or an array, dictionary or other generic holding one (a per-key lock table).</summary>
    private static bool HoldsShared(TypeReference type) => type switch
    {
        ArrayType array => HoldsShared(array.ElementType),
        // A delegate that makes one (a cached `_ => new SemaphoreSlim(1, 1)`) shares nothing.
        GenericInstanceType generic when generic.ElementType.FullName.StartsWith("System.Func`", StringComparison.Ordinal) ||
            generic.ElementType.FullName.StartsWith("System.Action`", StringComparison.Ordinal) => false,
        GenericInstanceType generic => SharedStaticTypes.Contains(IlEditing.ElementName(generic)) || generic.GenericArguments.Any(HoldsShared),
        _ => SharedStaticTypes.Contains(type.FullName),
    };

    /// <summary>Returns the API a call reaches that Coyote does not control, named by its type and method, and what to use instead; null for any other call.</summary>
    internal static (string Api, string Alternative)? Match(MethodReference called)
    {
        if (called.Parameters.Any(p => p.ParameterType.FullName == "System.TimeProvider") ||
            (called.DeclaringType.FullName == "System.TimeProvider" && called.Name == "CreateTimer"))
        {
            // A TimeProvider's timers run on its own clock and thread, outside Coyote's scheduler.
            var owner = Naming.TypeName(called.DeclaringType);
            return (called.Name == ".ctor" ? $"new {owner}(..., TimeProvider)" : $"{owner}.{called.Name} with a TimeProvider",
                "the overload without a TimeProvider (Task.Delay(TimeSpan) and CancelAfter are controlled)");
        }

        var type = IlEditing.ElementName(called.DeclaringType);
        foreach (var (ruleType, ruleMethod, api, alternative) in Rules)
        {
            // Of a channel, where one is made and where a task may wait on it (its options and accessors are no concern).
            var typeMatches = ruleType.EndsWith(".Channel", StringComparison.Ordinal)
                ? type.StartsWith("System.Threading.Channels.", StringComparison.Ordinal) && (called.Name.StartsWith("Create", StringComparison.Ordinal) || called.Name.EndsWith("Async", StringComparison.Ordinal))
                : type == ruleType;
            if (typeMatches && (ruleMethod is null || called.Name == ruleMethod))
            {
                // A rule over a whole type names the member called: `ChannelReader.ReadAsync`, `new ReaderWriterLockSlim`.
                var name = ruleMethod is not null ? api
                    : called.Name == ".ctor" ? $"new {Naming.TypeName(called.DeclaringType)}"
                    : $"{Naming.TypeName(called.DeclaringType)}.{Accessor(called.Name)}";
                return (name, alternative);
            }
        }

        return null;

        static string Accessor(string name) => name.StartsWith("get_", StringComparison.Ordinal) || name.StartsWith("set_", StringComparison.Ordinal) ? name[4..] : name;
    }

    private static DoctorFinding Finding(MethodDefinition method, Instruction instruction, string api, string alternative)
    {
        var point = SourceLines.Of(method, instruction);
        return new DoctorFinding(api, point?.File ?? method.Module.Name, point?.Line ?? 0, Naming.Method(method), alternative);
    }

}
