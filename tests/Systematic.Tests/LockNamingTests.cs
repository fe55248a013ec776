using Systematic.Recording;

namespace Systematic.Tests;

/// <summary>How the recorder names a lock object, from its creation and the expression it is locked through; no engine.</summary>
[Collection("engine")]
public sealed class LockNamingTests
{
    private static readonly string Made = SourceSite.Format("/src/Box.cs", 10, "Box.Make");
    private static readonly string Locked = SourceSite.Format("/src/Box.cs", 20, "Box.Use");

    [Fact]
    public void ALockMadeWhereNothingNamesItIsNamedByTheParameterOrLocalItIsLockedThrough()
    {
        var box = new object();
        Recorder.Begin("LockNaming");
        MonitorProbes.Created(box, Made, null);

        MonitorProbes.Enter(box, Locked, "box");
        MonitorProbes.Exit(box, Locked);
        Recorder.Freeze();

        Assert.Equal("box", Assert.Single(Recorder.Last!.Resources).Name);
    }

    [Fact]
    public void ALockStoredWhereItIsMadeKeepsThatNameWhateverLocksIt()
    {
        var gate = new object();
        Recorder.Begin("LockNaming");
        MonitorProbes.Created(gate, Made, "Store._gate");

        MonitorProbes.Enter(gate, Locked, "other");
        MonitorProbes.Exit(gate, Locked);
        Recorder.Freeze();

        Assert.Equal("Store._gate", Assert.Single(Recorder.Last!.Resources).Name);
    }
}
