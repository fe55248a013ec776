using Systematic.Instrumentation;

namespace Systematic.Tests;

/// <summary>Declared primitives checked against the assemblies the tests reach, on types of this test assembly: no run, no preparation.</summary>
[Trait("Tier", "Fast")]
public sealed class PrimitiveTableCheckTests
{
    private static readonly string[] ThisAssembly = [typeof(PrimitiveTableCheckTests).Assembly.Location];

    [Fact]
    public void AMisspelledMethodIsNamedWithTheMethodsTheTypeHas()
    {
        var table = PrimitiveTable.Of([new PrimitiveSpec(typeof(CheckedGate).FullName!, ["Enterr"], ["Exit"], 1, "gate.json")]);

        var problems = table.Check(ThisAssembly);

        Assert.Equal(
            [$"gate.json declares Enterr on {typeof(CheckedGate).FullName}, which has no such method (it has Enter, EnterBase, Exit)."],
            problems);
    }

    [Fact]
    public void ATypeNoAssemblyDefinesIsOneMistakeWhateverItsMethods()
    {
        var table = PrimitiveTable.Of([new PrimitiveSpec("Contoso.MissingGate", ["Enter", "Wait"], ["Exit"], 1, "[assembly: SynchronizationPrimitive]")]);

        var problems = table.Check(ThisAssembly);

        Assert.Equal(["[assembly: SynchronizationPrimitive] declares Contoso.MissingGate, which no assembly the tests reach defines."], problems);
    }

    [Fact]
    public void InheritedMethodsAndADisposeReleaserAreNoMistake()
    {
        var table = PrimitiveTable.Of([new PrimitiveSpec(typeof(CheckedGate).FullName!, ["Enter", "EnterBase"], ["Exit", "Dispose"], 1, "gate.json")]);

        var problems = table.Check(ThisAssembly);

        Assert.Empty(problems);
    }

    [Fact]
    public void TheBuiltInTableAloneIsNotChecked()
    {
        var problems = PrimitiveTable.Default.Check(["no-such-assembly.dll"]);

        Assert.Empty(problems);
    }
}

internal class CheckedGateBase
{
    private int entries;

    public int EnterBase() => ++this.entries;
}

internal sealed class CheckedGate : CheckedGateBase
{
    private int held;

    public int Enter() => ++this.held;

    public int Exit() => --this.held;
}
