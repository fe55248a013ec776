using Mono.Cecil;
using Mono.Cecil.Cil;
using Systematic.Instrumentation;

namespace Systematic.Tests;

/// <summary>
/// Source lines of calls, read from this assembly's own PDB: a <c>lock</c> on a <see cref="Lock"/>, which Roslyn gives no
/// sequence point of its own, is placed on the line of its <c>lock</c> keyword in every brace style.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class SourceLinesTests
{
    [Theory]
    [InlineData(nameof(LockStyles.Allman))]
    [InlineData(nameof(LockStyles.BodyOnTheSameLine))]
    [InlineData(nameof(LockStyles.BraceAtTheEndOfTheLine))]
    [InlineData(nameof(LockStyles.SingleStatement))]
    [InlineData(nameof(LockStyles.AfterAnAwait))]
    [InlineData(nameof(LockStyles.NestedOnOneLine))]
    public void ALockOnALockIsPlacedOnItsLockKeyword(string method)
    {
        var (found, marked) = EnterScopeLines(method, SourceLinesTests.ReadSource);

        Assert.NotEmpty(marked);
        Assert.Equal(marked, found);
    }

    [Theory]
    [InlineData(nameof(LockStyles.Allman))]
    [InlineData(nameof(LockStyles.BodyOnTheSameLine))]
    [InlineData(nameof(LockStyles.SingleStatement))]
    [InlineData(nameof(LockStyles.AfterAnAwait))]
    public void WithoutTheSourceFileTheCommonBraceStylesStillGetTheLockLine(string method)
    {
        var (found, marked) = EnterScopeLines(method, _ => null);

        Assert.Equal(marked, found);
    }

    [Fact]
    public void AnExplicitEnterScopeKeepsItsOwnStatementsLineWithOrWithoutTheSource()
    {
        var (found, marked) = EnterScopeLines(nameof(LockStyles.ExplicitScope), SourceLinesTests.ReadSource);
        var (foundBare, _) = EnterScopeLines(nameof(LockStyles.ExplicitScope), _ => null);

        Assert.Equal(marked, found);
        Assert.Equal(marked, foundBare);
    }

    private static string[]? ReadSource(string path) => File.Exists(path) ? File.ReadAllLines(path) : null;

    /// <summary>The lines found for each EnterScope call of a method of <see cref="LockStyles"/>, and the lines its source marks with <c>// lock here</c>.</summary>
    private static (List<int> Found, List<int> Marked) EnterScopeLines(string name, Func<string, string[]?> read)
    {
        using var module = ModuleDefinition.ReadModule(typeof(LockStyles).Assembly.Location, new ReaderParameters { ReadSymbols = true });
        var type = module.GetType(typeof(LockStyles).FullName);
        var body = type.NestedTypes.SingleOrDefault(t => t.Name.Contains($"<{name}>", StringComparison.Ordinal))?.Methods.Single(m => m.Name == "MoveNext")
            ?? type.Methods.Single(m => m.Name == name);
        var calls = body.Body.Instructions.Where(i => i.Operand is MethodReference { Name: "EnterScope" }).ToList();
        var found = calls.Select(c => SourceLines.Of(body, c, read)!.Value.Line).ToList();

        var file = body.DebugInformation.SequencePoints.First(p => !p.IsHidden).Document.Url;
        var points = body.DebugInformation.SequencePoints.Where(p => !p.IsHidden).ToList();
        var (first, last) = (points.Min(p => p.StartLine), points.Max(p => p.EndLine));
        var marked = File.ReadAllLines(file).Select((text, i) => (text, line: i + 1))
            .Where(l => l.line >= first && l.line <= last)
            .SelectMany(l => Enumerable.Repeat(l.line, CountOf(l.text, "// lock here") + CountOf(l.text, "/* lock here */")))
            .ToList();
        return (found, marked);
    }

    private static int CountOf(string text, string marker) => (text.Length - text.Replace(marker, "", StringComparison.Ordinal).Length) / marker.Length;
}

internal sealed class LockStyles
{
    private readonly Lock first = new();
    private readonly Lock second = new();
    private int count;

    public int Count => this.count;

    public void Allman()
    {
        lock (this.first) // lock here
        {
            this.count++;
        }
    }

    public void BodyOnTheSameLine()
    {
        lock (this.first) // lock here
        {
            lock (this.second) { this.count++; } // lock here
        }
    }

    public void BraceAtTheEndOfTheLine()
    {
        lock (this.first) { // lock here
            this.count++;
        }
    }

    public void SingleStatement()
    {
        lock (this.first) this.count++; // lock here
    }

    public async Task AfterAnAwait()
    {
        await Task.Yield();
        lock (this.first) // lock here
        {
            this.count++;
        }
    }

    public void NestedOnOneLine()
    {
        lock (this.first) { lock (this.second) { this.count++; } } // lock here // lock here
    }

    public void ExplicitScope()
    {
        using (this.first.EnterScope()) // lock here
        {
            this.count++;
        }
    }
}
