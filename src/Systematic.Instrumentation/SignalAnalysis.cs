using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Systematic.Instrumentation;

/// <summary>
/// Finds, from an assembly's call sites, the semaphore fields used as signals rather than locks: a field released in a
/// method that never acquires it but acquires another one (a producer releases the items a consumer waits for, a
/// consumer the slots a producer waits for), or that starts with no permit. A lambda or local function counts as part of the method it is written in, and the <c>Dispose</c> of an
/// <see cref="IDisposable"/> releaser is the lock it releases, not a signal. Known before any code runs, so a deadlock
/// that comes before the first release is still read as a cycle through a signal.
/// </summary>
internal static class SignalAnalysis
{
    private const string Semaphore = "Microsoft.Coyote.Rewriting.Types.Threading.SemaphoreSlim";

    /// <summary>Gets, for each signal field (<c>Type::field</c>), the methods that release it without acquiring it.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Find(ModuleDefinition module)
    {
        var acquirers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var releasers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var startsEmpty = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in module.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody))
        {
            foreach (var instruction in method.Body.Instructions)
            {
                if (instruction.OpCode.FlowControl != FlowControl.Call || instruction.Operand is not MethodReference called || IlEditing.ElementName(called.DeclaringType) != Semaphore)
                {
                    continue;
                }

                if (called.Name == "Create" && instruction.Next?.OpCode.Code is Code.Stfld or Code.Stsfld && instruction.Next.Operand is FieldReference created &&
                    InitialCount(instruction) == 0)
                {
                    startsEmpty.Add(Key(created));
                    continue;
                }

                if (called.Name is not ("Wait" or "WaitAsync" or "Release") || FieldOf(instruction) is not { } field)
                {
                    continue;
                }

                var owner = Owner(method);
                var table = called.Name == "Release" ? releasers : acquirers;
                (table.TryGetValue(field, out var set) ? set : table[field] = new HashSet<string>(StringComparer.Ordinal)).Add(owner);
            }
        }

        // A method that releases a field it never acquires is a hand-off when it acquires another semaphore (the producer
        // takes a slot and releases an item; the consumer takes an item and releases a slot), or when the field starts
        // empty (nothing to acquire before someone releases). A wrapper's Release() that acquires nothing is a lock's.
        var takesOther = acquirers.SelectMany(a => a.Value.Select(owner => (owner, a.Key))).ToLookup(x => x.owner, x => x.Key);
        var signals = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (field, owners) in releasers)
        {
            var acquiredBy = acquirers.GetValueOrDefault(field);
            if (acquiredBy is null)
            {
                continue;
            }

            var elsewhere = owners
                .Where(o => !acquiredBy.Contains(o) && !o.EndsWith(DisposeMarker, StringComparison.Ordinal) && (startsEmpty.Contains(field) || takesOther[o].Any(other => other != field)))
                .Order(StringComparer.Ordinal)
                .ToList();
            if (elsewhere.Count > 0)
            {
                signals[field] = elsewhere;
            }
        }

        return signals;
    }

    /// <summary>The key of a field: its declaring type without generic arguments, and its name.</summary>
    public static string Key(FieldReference field) => $"{IlEditing.ElementName(field.DeclaringType)}::{field.Name}";

    private const string DisposeMarker = " (Dispose)";

    /// <summary>The semaphore field the call works on: the nearest field load before it (through the compiler's and Coyote's own steps).</summary>
    private static string? FieldOf(Instruction call)
    {
        var i = call.Previous;
        for (var hops = 0; i is not null && hops < 12; hops++, i = i.Previous)
        {
            if (i.OpCode.Code is Code.Ldfld or Code.Ldsfld && i.Operand is FieldReference field && field.FieldType.FullName == "System.Threading.SemaphoreSlim")
            {
                return Key(field);
            }

            if (i.OpCode.FlowControl is FlowControl.Branch or FlowControl.Cond_Branch or FlowControl.Return || (i.OpCode.FlowControl == FlowControl.Call && i.Operand is MethodReference m && IlEditing.ElementName(m.DeclaringType) == Semaphore))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The constant initial count a <c>Create(int[, int])</c> call is given, or null when it is computed.</summary>
    private static int? InitialCount(Instruction create)
    {
        var argument = ((MethodReference)create.Operand).Parameters.Count == 2 ? create.Previous?.Previous : create.Previous;
        return argument?.OpCode.Code switch
        {
            Code.Ldc_I4_0 => 0,
            Code.Ldc_I4 or Code.Ldc_I4_S => Convert.ToInt32(argument.Operand, System.Globalization.CultureInfo.InvariantCulture),
            Code.Ldc_I4_1 => 1,
            _ => null,
        };
    }

    /// <summary>The method a call belongs to, as a developer wrote it: an async method's state machine, a lambda or a local function is its outer method.</summary>
    private static string Owner(MethodDefinition method)
    {
        var name = Naming.Method(method);
        var outer = name.Split('.') is { Length: >= 3 } parts && (parts[^1] == "lambda" || method.Name.Contains(">g__", StringComparison.Ordinal))
            ? string.Join('.', parts[..^1])
            : name;
        var kickoff = method.DebugInformation?.StateMachineKickOffMethod ?? method;
        var isDispose = kickoff.Name is "Dispose" or "DisposeAsync" && kickoff.Parameters.Count == 0 &&
            kickoff.DeclaringType.Interfaces.Any(i => i.InterfaceType.FullName is "System.IDisposable" or "System.IAsyncDisposable");
        return isDispose ? outer + DisposeMarker : outer;
    }
}
