using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Systematic.Instrumentation;

/// <summary>IL insertion helpers that keep branch targets, handler bounds and sequence points on the original position.</summary>
internal static class IlEditing
{
    /// <summary>Inserts <paramref name="inserted"/> so they run just before <paramref name="target"/>.</summary>
    /// <remarks>
    /// Whatever jumped to <paramref name="target"/> now jumps to the first inserted instruction: the target instruction object
    /// takes the first new opcode and a copy of the original is placed after the insertion.
    /// </remarks>
    public static Instruction InsertBefore(ILProcessor il, Instruction target, params Instruction[] inserted)
    {
        if (inserted.Length == 0)
        {
            return target;
        }

        var moved = il.Create(OpCodes.Nop);
        moved.OpCode = target.OpCode;
        moved.Operand = target.Operand;
        target.OpCode = inserted[0].OpCode;
        target.Operand = inserted[0].Operand;
        var last = target;
        for (var i = 1; i < inserted.Length; i++)
        {
            il.InsertAfter(last, inserted[i]);
            last = inserted[i];
        }

        il.InsertAfter(last, moved);
        return moved;
    }

    /// <summary>Finds the source line of an instruction: the nearest visible sequence point at or before it.</summary>
    public static SequencePoint? SequencePointOf(MethodDefinition method, Instruction instruction)
    {
        if (!method.DebugInformation.HasSequencePoints)
        {
            return null;
        }

        SequencePoint? best = null;
        SequencePoint? next = null;
        foreach (var point in method.DebugInformation.SequencePoints)
        {
            if (point.IsHidden)
            {
                continue;
            }

            if (point.Offset <= instruction.Offset && (best is null || point.Offset >= best.Offset))
            {
                best = point;
            }
            else if (point.Offset > instruction.Offset && (next is null || point.Offset < next.Offset))
            {
                next = point;
            }
        }

        // Only the method's opening brace precedes it (Roslyn gives a `lock` on a System.Threading.Lock no point of its
        // own): the block that follows is the nearest line that belongs to the statement.
        var brace = best is { Offset: 0 } && best.StartLine == best.EndLine && best.EndColumn - best.StartColumn == 1;
        return brace && next is not null ? next : best ?? next;
    }

    /// <summary>Gets a type's full name without generic arguments (<c>Task`1</c> for <c>Task&lt;int&gt;</c>).</summary>
    public static string ElementName(TypeReference type) => type is GenericInstanceType g ? g.ElementType.FullName : type.FullName;

    /// <summary>A shape of a type where every generic parameter reads "T", to match signatures across generic contexts.</summary>
    public static string Shape(TypeReference type) => type switch
    {
        GenericParameter => "T",
        ByReferenceType r => Shape(r.ElementType) + "&",
        ArrayType a => Shape(a.ElementType) + "[]",
        GenericInstanceType g => g.ElementType.FullName + "<" + string.Join(",", g.GenericArguments.Select(Shape)) + ">",
        _ => type.FullName,
    };
}
