using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Systematic.Instrumentation;

/// <summary>Infers a resource's name from the field, local or array it was stored into, or the one a lock loads.</summary>
internal static class NameHints
{
    public static string? For(MethodDefinition method, Instruction call, MethodReference called) => called.Name switch
    {
        "Create" => StoredInto(method, call),
        "GetAwaiter" or "ConfigureAwait" or "Wait" or "get_Result" => ProducedBy(method, call),
        _ => LoadedFrom(method, call),
    };

    /// <summary>What produced the task an await waits for: the call that returned it, or the field or local it was loaded from.</summary>
    private static string? ProducedBy(MethodDefinition method, Instruction call)
    {
        var i = call.Previous;
        while (i is not null && i.OpCode.Code is Code.Ldc_I4 or Code.Ldc_I4_0 or Code.Ldc_I4_1 or Code.Ldc_I4_S)
        {
            // ConfigureAwait(false)'s argument.
            i = i.Previous;
        }

        for (var hops = 0; i is not null && hops < 4; hops++)
        {
            switch (i.OpCode.Code)
            {
                case Code.Call or Code.Callvirt when i.Operand is MethodReference produced && produced.DeclaringType.Namespace != "Microsoft.Coyote.Runtime":
                    return $"{Naming.TypeName(produced.DeclaringType)}.{produced.Name}";
                case Code.Call or Code.Callvirt:
                    // Coyote's interleaving calls sit between loads.
                    i = i.Previous;
                    continue;
                case Code.Ldfld or Code.Ldsfld:
                    return Naming.Field((FieldReference)i.Operand);
                case Code.Ldarg or Code.Ldarg_S:
                    return ParameterName(method, (ParameterDefinition)i.Operand);
                case Code.Ldloc or Code.Ldloc_S or Code.Ldloca or Code.Ldloca_S:
                    var variable = (VariableDefinition)i.Operand;
                    var store = method.Body.Instructions.LastOrDefault(s => s.Offset < i.Offset && s.OpCode.Code is Code.Stloc or Code.Stloc_S && s.Operand == variable);
                    if (store?.Previous is { OpCode.Code: Code.Call or Code.Callvirt } producer)
                    {
                        i = producer;
                        continue;
                    }

                    return method.DebugInformation.TryGetName(variable, out var name) ? name : null;
                default:
                    return null;
            }
        }

        return null;
    }

    public static string? StoredInto(MethodDefinition method, Instruction call)
    {
        var next = call.Next;
        while (next is not null && next.OpCode == OpCodes.Dup)
        {
            next = next.Next;
        }

        return next?.OpCode.Code switch
        {
            Code.Stfld or Code.Stsfld => Naming.Field((FieldReference)next.Operand),
            Code.Stloc or Code.Stloc_S or Code.Stloc_0 or Code.Stloc_1 or Code.Stloc_2 or Code.Stloc_3 => LocalName(method, next),
            Code.Stelem_Ref or Code.Stelem_Any => ArrayName(method, call),
            _ => null,
        };
    }

    private static string? ArrayName(MethodDefinition method, Instruction call)
    {
        for (var i = call.Previous; i is not null && i.Offset >= call.Offset - 24; i = i.Previous)
        {
            switch (i.Operand)
            {
                case FieldReference field when field.FieldType.IsArray:
                    return Naming.Field(field) + "[]";
                case VariableDefinition variable when variable.VariableType.IsArray:
                    return (method.DebugInformation.TryGetName(variable, out var name) ? name : "array") + "[]";
            }
        }

        return null;
    }

    private static string? LoadedFrom(MethodDefinition method, Instruction call)
    {
        // Monitor.Enter(obj[, ref taken]): find what produced obj, through the compiler's temporaries.
        var i = call.Previous;
        while (i is not null && (i.OpCode.Code is Code.Ldloca or Code.Ldloca_S or Code.Ldc_I4 or Code.Ldc_I4_0 or Code.Ldc_I4_1 or Code.Ldc_I4_M1 or Code.Ldc_I4_S or Code.Ldc_I8 || i.OpCode.Code == Code.Call))
        {
            i = i.Previous;
        }

        for (var hops = 0; i is not null && hops < 6; hops++)
        {
            if (i.OpCode.Code == Code.Call || i.OpCode == OpCodes.Dup)
            {
                // Coyote's InterleaveMemoryAccess() calls sit between loads.
                i = i.Previous;
                continue;
            }

            switch (i.OpCode.Code)
            {
                case Code.Ldfld or Code.Ldsfld:
                    return Naming.Field((FieldReference)i.Operand);
                case Code.Ldarg or Code.Ldarg_S:
                    return ParameterName(method, (ParameterDefinition)i.Operand);
                case Code.Ldloc or Code.Ldloc_S:
                    var variable = (VariableDefinition)i.Operand;
                    if (method.DebugInformation.TryGetName(variable, out var name))
                    {
                        return name;
                    }

                    // A compiler temporary: go to where it was stored.
                    var store = method.Body.Instructions.LastOrDefault(s => s.Offset < i.Offset && s.OpCode.Code is Code.Stloc or Code.Stloc_S && s.Operand == variable);
                    i = store?.Previous;
                    while (i is not null && i.OpCode == OpCodes.Dup)
                    {
                        i = i.Previous;
                    }

                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>A parameter's name, or <c>Type (this)</c> for the instance itself (<c>lock (this)</c>).</summary>
    private static string ParameterName(MethodDefinition method, ParameterDefinition parameter) =>
        parameter == method.Body.ThisParameter || parameter.Name.Length == 0 ? $"{Naming.TypeName(method.DeclaringType.Name.StartsWith('<') ? method.DeclaringType.DeclaringType ?? method.DeclaringType : method.DeclaringType)} (this)" : parameter.Name;

    private static string? LocalName(MethodDefinition method, Instruction store) =>
        store.Operand is VariableDefinition variable && method.DebugInformation.TryGetName(variable, out var name) ? name : null;
}
