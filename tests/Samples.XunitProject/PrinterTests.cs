using Booking;
using Xunit;

namespace Samples.XunitProject;

public sealed class PrinterTests
{
    /// <summary>An ordinary xunit test: one hand-over, no concurrency.</summary>
    [Fact]
    public void AHandOverPrintsOnTheBackup()
    {
        var lobby = new TicketPrinter("lobby");
        var gate = new TicketPrinter("gate");

        lobby.HandOverInOrder(gate);

        Assert.Equal(1, gate.Printed);
    }
}

/// <summary>Coyote tests next to it, in the same project: both printers hand over at once.</summary>
public static class PrinterCoyoteTests
{
    [Microsoft.Coyote.SystematicTesting.Test]
    public static async Task MutualHandOverBuggy()
    {
        var lobby = new TicketPrinter("lobby");
        var gate = new TicketPrinter("gate");

        await Task.WhenAll(Task.Run(() => lobby.HandOver(gate)), Task.Run(() => gate.HandOver(lobby)));
    }

    [Microsoft.Coyote.SystematicTesting.Test]
    public static async Task MutualHandOverFixed()
    {
        var lobby = new TicketPrinter("lobby");
        var gate = new TicketPrinter("gate");

        await Task.WhenAll(Task.Run(() => lobby.HandOverInOrder(gate)), Task.Run(() => gate.HandOverInOrder(lobby)));
    }
}
