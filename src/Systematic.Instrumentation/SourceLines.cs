using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Systematic.Instrumentation;

/// <summary>
/// The source line of an instruction, read from the PDB's sequence points: the nearest visible point at or before it,
/// except where the compiler gives a statement no point of its own.
/// </summary>
internal static partial class SourceLines
{
    private static readonly ConcurrentDictionary<string, string[]?> Files = new(StringComparer.Ordinal);

    /// <summary>Gets the file and line of <paramref name="instruction"/>, or null when the method has no sequence points.</summary>
    public static (string File, int Line)? Of(MethodDefinition method, Instruction instruction) => Of(method, instruction, Read);

    /// <summary>Gets the file and line of <paramref name="instruction"/>, reading source files with <paramref name="read"/> (null: not here).</summary>
    internal static (string File, int Line)? Of(MethodDefinition method, Instruction instruction, Func<string, string[]?> read)
    {
        if (!method.DebugInformation.HasSequencePoints)
        {
            return null;
        }

        var (best, next) = Around(method, instruction);
        if (IsLockOnLockType(instruction) && next is not null)
        {
            // Roslyn gives a `lock` on a System.Threading.Lock no point of its own: its EnterScope call sits after the
            // previous statement's point (a brace, an await) and before the point of the lock's body.
            return (next.Document.Url, LockLine(method, instruction, best, next, read));
        }

        // Only the method's opening brace precedes it: the block that follows is the nearest line that belongs to the statement.
        var point = IsBrace(best) && best!.Offset == 0 && next is not null ? next : best ?? next;
        return point is null ? null : (point.Document.Url, point.StartLine);
    }

    private static (SequencePoint? Best, SequencePoint? Next) Around(MethodDefinition method, Instruction instruction)
    {
        SequencePoint? best = null;
        SequencePoint? next = null;
        foreach (var point in method.DebugInformation.SequencePoints.Where(p => !p.IsHidden))
        {
            if (point.Offset <= instruction.Offset && (best is null || point.Offset >= best.Offset))
            {
                best = point;
            }
            else if (point.Offset > instruction.Offset && (next is null || point.Offset < next.Offset))
            {
                next = point;
            }
        }

        return (best, next);
    }

    private static bool IsLockOnLockType(Instruction instruction) =>
        instruction.Operand is MethodReference { Name: "EnterScope", DeclaringType.FullName: "System.Threading.Lock" };

    private static bool IsBrace(SequencePoint? point) =>
        point is not null && point.StartLine == point.EndLine && point.EndColumn - point.StartColumn == 1;

    /// <summary>
    /// The line of the <c>lock</c> keyword before <paramref name="next"/> (its body): found in the source when it is here
    /// (none there: an explicit <c>using (x.EnterScope())</c>, which has its point); else, unless the call owns
    /// <paramref name="best"/>, the line before a body that starts with a brace (the brace on a line of its own), else the body's line.
    /// </summary>
    private static int LockLine(MethodDefinition method, Instruction call, SequencePoint? best, SequencePoint next, Func<string, string[]?> read)
    {
        if (read(next.Document.Url) is { } lines && next.StartLine <= lines.Length)
        {
            var from = best is null || best.Document.Url != next.Document.Url ? Math.Max(1, next.StartLine - 3) : best.EndLine;
            for (var line = next.StartLine; line >= from; line--)
            {
                var text = lines[line - 1];
                if (line == next.StartLine)
                {
                    text = text[..Math.Min(text.Length, Math.Max(0, next.StartColumn - 1))];
                }

                if (LockKeyword().IsMatch(text))
                {
                    return line;
                }
            }

            return best?.StartLine ?? next.StartLine;
        }

        if (best is not null && Owns(method, call, best))
        {
            return best.StartLine;
        }

        return IsBrace(next) && next.StartLine - 1 > (best?.EndLine ?? 0) ? next.StartLine - 1 : next.StartLine;
    }

    /// <summary>Whether <paramref name="point"/> is the call's own statement: not a brace, and nothing between them that another statement would have (a call, a hidden point).</summary>
    private static bool Owns(MethodDefinition method, Instruction call, SequencePoint point)
    {
        if (IsBrace(point))
        {
            return false;
        }

        var hidden = method.DebugInformation.SequencePoints.Any(p => p.IsHidden && p.Offset > point.Offset && p.Offset < call.Offset);
        var calls = method.Body.Instructions.Any(i => i.Offset >= point.Offset && i.Offset < call.Offset && i.OpCode.FlowControl == FlowControl.Call);
        return !hidden && !calls;
    }

    private static string[]? Read(string path) => Files.GetOrAdd(path, static p =>
    {
        try
        {
            return File.Exists(p) ? File.ReadAllLines(p) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    });

    [GeneratedRegex(@"\block\s*\(")]
    private static partial Regex LockKeyword();
}
