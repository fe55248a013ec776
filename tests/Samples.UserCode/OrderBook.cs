using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>Two books updated under their own locks; the two code paths take the locks in opposite orders.</summary>
public sealed class OrderBook
{
    private readonly object _bids = new();
    private readonly object _asks = new();

    public int Matches { get; private set; }

    /// <summary>Locks bids, then asks.</summary>
    public void MatchFromBids()
    {
        lock (_bids)
        {
            lock (_asks)
            {
                Matches++;
            }
        }
    }

    /// <summary>Locks asks, then bids: the opposite order.</summary>
    public void MatchFromAsks()
    {
        lock (_asks)
        {
            lock (_bids)
            {
                Matches++;
            }
        }
    }
}

/// <summary>Lock orders that only some schedules turn into a deadlock.</summary>
public static class OrderBookTests
{
    /// <summary>The two paths run one after the other: no schedule deadlocks, but the orders form a cycle (a latent deadlock).</summary>
    [Test]
    public static async Task OppositeOrdersInSequence()
    {
        var book = new OrderBook();
        await Task.Run(book.MatchFromBids);
        await Task.Run(book.MatchFromAsks);
    }

    /// <summary>The two paths run concurrently after uneven warm-ups: most schedules pass, few deadlock.</summary>
    [Test]
    public static async Task OppositeOrdersRarelyInterleaved()
    {
        var book = new OrderBook();
        var first = Task.Run(async () =>
        {
            await WarmUpAsync(1);
            book.MatchFromBids();
        });
        var second = Task.Run(async () =>
        {
            await WarmUpAsync(12);
            book.MatchFromAsks();
        });
        await Task.WhenAll(new[] { first, second });
    }

    private static async Task WarmUpAsync(int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            await Task.Yield();
        }
    }
}
