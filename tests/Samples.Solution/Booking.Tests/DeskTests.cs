using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using Systematic;

namespace Booking.Tests;

public static class DeskTests
{
    /// <summary>A reservation and a promotion at once: the desk's two paths take the seat map and the waitlist in opposite orders.</summary>
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task ReserveWhilePromotingBuggy()
    {
        var desk = new BookingDesk(new SeatMap(4), new Waitlist());

        var reserve = Task.Run(() => desk.ReserveAsync("ada", 1));
        var promote = Task.Run(() => desk.PromoteAsync(2));
        await Task.WhenAll(reserve, promote);
    }

    [Test]
    public static async Task ReserveWhilePromotingFixed()
    {
        var seats = new SeatMap(4);
        var desk = new BookingDesk(seats, new Waitlist());

        var reserve = Task.Run(() => desk.ReserveAsync("ada", 1));
        var promote = Task.Run(() => desk.PromoteInOrderAsync(2));
        await Task.WhenAll(reserve, promote);

        Specification.Assert(seats.Free == 3, $"One seat should be taken, {seats.Free} are free.");
    }
}

public static class PaymentTests
{
    /// <summary>Three charges through a processor that allows two at a time; one card is declined and keeps its permit.</summary>
    [Test]
    [ExpectedFailure(FailureKind.Leak)]
    public static async Task DeclinedCardBuggy()
    {
        var processor = new CardProcessor();

        await Task.WhenAll(Charge(processor, "0000-1111"), Charge(processor, "4242-1111"), Charge(processor, "4242-2222"));
    }

    [Test]
    public static async Task DeclinedCardFixed()
    {
        var processor = new CardProcessor();

        await Task.WhenAll(ChargeSafely(processor, "0000-1111"), ChargeSafely(processor, "4242-1111"), ChargeSafely(processor, "4242-2222"));
    }

    private static Task Charge(CardProcessor processor, string card) => Task.Run(async () =>
    {
        try
        {
            await processor.ChargeAsync(card, 10m);
        }
        catch (CardDeclinedException)
        {
        }
    });

    private static Task ChargeSafely(CardProcessor processor, string card) => Task.Run(async () =>
    {
        try
        {
            await processor.ChargeSafelyAsync(card, 10m);
        }
        catch (CardDeclinedException)
        {
        }
    });
}

public static class PrinterTests
{
    /// <summary>Two printers that back each other up hand over at the same time: System.Threading.Lock taken in opposite orders.</summary>
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task MutualHandOverBuggy()
    {
        var lobby = new TicketPrinter("lobby");
        var gate = new TicketPrinter("gate");

        await Task.WhenAll(Task.Run(() => lobby.HandOver(gate)), Task.Run(() => gate.HandOver(lobby)));
    }

    [Test]
    public static async Task MutualHandOverFixed()
    {
        var lobby = new TicketPrinter("lobby");
        var gate = new TicketPrinter("gate");

        await Task.WhenAll(Task.Run(() => lobby.HandOverInOrder(gate)), Task.Run(() => gate.HandOverInOrder(lobby)));

        Specification.Assert(lobby.Printed + gate.Printed == 2, "Both hand-overs should have printed.");
    }
}

public static class PosterTests
{
    /// <summary>Renders both sizes while holding the only encoder the renders need.</summary>
    [Test]
    [ExpectedFailure(FailureKind.SelfDeadlock)]
    public static async Task ReservedEncoderBuggy()
    {
        var renderer = new PosterRenderer();

        await renderer.RenderPairReservedAsync();
    }

    /// <summary>Two renders awaited with Task.WhenAll(a, b) (the span overload) share the encoder in turn.</summary>
    [Test]
    public static async Task RenderPairFixed()
    {
        var renderer = new PosterRenderer();

        await Task.WhenAll(Task.Run(renderer.RenderPairAsync), Task.Run(() => renderer.RenderAsync("banner")));

        Specification.Assert(renderer.Rendered.Count == 3, $"Three posters should be rendered, not {renderer.Rendered.Count}.");
    }
}

public static class WarmupTests
{
    /// <summary>A request waits for the schedule; loading an empty schedule never opens the gate.</summary>
    [Test]
    [ExpectedFailure(FailureKind.Deadlock)]
    public static async Task EmptyScheduleBuggy()
    {
        var warmup = new ScheduleWarmup();

        await Task.WhenAll(Task.Run(() => warmup.LoadAsync([])), Task.Run(warmup.CountShowsAsync));
    }

    [Test]
    public static async Task EmptyScheduleFixed()
    {
        var warmup = new ScheduleWarmup();

        await Task.WhenAll(Task.Run(() => warmup.LoadOrOpenAsync([])), Task.Run(warmup.CountShowsAsync));
    }
}
