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
