using Mono.Cecil;

namespace Systematic.Instrumentation;

/// <summary>Readable names for methods as a developer wrote them, seen through compiler-generated types.</summary>
internal static class Naming
{
    /// <summary>Gets <c>Type.Method</c>, <c>Type.Outer.lambda</c> or <c>Type.Outer.Local</c>, for state machines their original method.</summary>
    public static string Method(MethodDefinition method)
    {
        if (method.DebugInformation?.StateMachineKickOffMethod is { } kickoff)
        {
            method = kickoff;
        }
        else if (method.Name == "MoveNext" && method.DeclaringType.Name.StartsWith('<'))
        {
            // No PDB: <Worker>d__1.MoveNext is Worker.
            var stateMachine = method.DeclaringType;
            return $"{TypeName(RealType(stateMachine))}.{Between(stateMachine.Name)}";
        }

        var name = method.Name;
        var type = RealType(method.DeclaringType);
        if (!name.StartsWith('<'))
        {
            return $"{TypeName(type)}.{name}";
        }

        var outer = Between(name);
        var local = name.IndexOf(">g__", StringComparison.Ordinal);
        if (local >= 0)
        {
            var start = local + 4;
            var end = name.IndexOf('|', start);
            return $"{TypeName(type)}.{outer}.{(end > start ? name[start..end] : name[start..])}";
        }

        return $"{TypeName(type)}.{outer}.lambda";
    }

    /// <summary>Gets the name Coyote gives a test: <c>Namespace.Type.Method</c>, nested types joined with '+'.</summary>
    public static string TestName(MethodDefinition method) => $"{method.DeclaringType.FullName.Replace('/', '+')}.{method.Name}";

    /// <summary>Cleans a field name: hoisted locals (<c>&lt;gate&gt;5__2</c>) become <c>gate</c>.</summary>
    public static string Field(FieldReference field)
    {
        if (field.Name.StartsWith('<'))
        {
            // An auto-property's backing field is the property of its type; a hoisted local is the local.
            return field.Name.EndsWith(">k__BackingField", StringComparison.Ordinal) && !field.DeclaringType.Name.StartsWith('<')
                ? $"{TypeName(field.DeclaringType)}.{Between(field.Name)}"
                : Between(field.Name);
        }

        return field.DeclaringType.Name.StartsWith('<') ? field.Name : $"{TypeName(field.DeclaringType)}.{field.Name}";
    }

    /// <summary>A type's name without its generic arity (<c>Queue`1</c> is <c>Queue</c>).</summary>
    public static string TypeName(TypeReference type)
    {
        var tick = type.Name.IndexOf('`', StringComparison.Ordinal);
        return tick > 0 ? type.Name[..tick] : type.Name;
    }

    private static TypeDefinition RealType(TypeDefinition type)
    {
        while (type.Name.StartsWith('<') && type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    private static string Between(string name)
    {
        var end = name.IndexOf('>', StringComparison.Ordinal);
        return end > 1 ? name[1..end] : name;
    }
}
