using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using Systematic;

namespace Booking.Tests;

/// <summary>Services wired through their interfaces, as a container does: the locks are taken through interface calls.</summary>
public static class ServiceTests
{
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task CheckoutWhileRepricingBuggy()
    {
        ISeatInventory seats = new SeatInventory();
        IFareTable fares = new FareTable();
        var checkout = new Checkout(seats, fares);
        var repricing = new Repricing(seats, fares);

        await Task.WhenAll(Task.Run(() => checkout.BuyAsync(2)), Task.Run(repricing.RunAsync));
    }

    [Test]
    public static async Task CheckoutWhileRepricingFixed()
    {
        ISeatInventory seats = new SeatInventory();
        IFareTable fares = new FareTable();
        var checkout = new Checkout(seats, fares);
        var repricing = new Repricing(seats, fares);

        await Task.WhenAll(Task.Run(() => checkout.BuyAsync(2)), Task.Run(repricing.RunInOrderAsync));

        Specification.Assert(seats.Sold == 2, $"Two seats should be sold, not {seats.Sold}.");
    }
}

/// <summary>Holds with a short timeout: it may fire at any step after it is set, and the run explores where.</summary>
public static class HoldTests
{
    [Test]
    [ExpectedFailure(FailureKind.Leak)]
    public static async Task HoldTimeoutBuggy()
    {
        var holds = new HoldService();

        await Task.WhenAll(Hold(holds.HoldAsync, "1A"), Hold(holds.HoldAsync, "1B"), Hold(holds.HoldAsync, "1C"));
    }

    [Test]
    public static async Task HoldTimeoutFixed()
    {
        var holds = new HoldService();

        // A guard against a hang, as tests have: longer than a second, it is left to real time and never fires here.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Task.WhenAll(Hold(holds.HoldSafelyAsync, "1A", guard.Token), Hold(holds.HoldSafelyAsync, "1B", guard.Token), Hold(holds.HoldSafelyAsync, "1C", guard.Token));

        Specification.Assert(holds.FreeAgents == 2, $"Both agents should be free, {holds.FreeAgents} are.");
        Specification.Assert(!guard.IsCancellationRequested, "The 30 s guard fired.");
    }

    private static Task Hold(Func<string, TimeSpan, CancellationToken, Task> hold, string seat, CancellationToken cancellationToken = default) => Task.Run(async () =>
    {
        try
        {
            await hold(seat, TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The hold timed out: the seat goes to someone else.
        }
    });
}
