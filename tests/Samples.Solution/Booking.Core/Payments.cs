namespace Booking;

/// <summary>A card was declined.</summary>
public sealed class CardDeclinedException(string card) : Exception($"Card {card} was declined.");

/// <summary>Charges cards, at most two at a time (the payment provider's limit).</summary>
public sealed class CardProcessor
{
    private readonly SemaphoreSlim _concurrentCharges = new(2, 2);

    /// <summary>Buggy: a declined card throws before the permit goes back.</summary>
    public async ValueTask<decimal> ChargeAsync(string card, decimal amount)
    {
        await _concurrentCharges.WaitAsync().ConfigureAwait(false);
        await Task.Yield();
        if (card.StartsWith("0000", StringComparison.Ordinal))
        {
            throw new CardDeclinedException(card);
        }

        _concurrentCharges.Release();
        return amount;
    }

    /// <summary>Fixed: the permit goes back on every path.</summary>
    public async ValueTask<decimal> ChargeSafelyAsync(string card, decimal amount)
    {
        await _concurrentCharges.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.Yield();
            return card.StartsWith("0000", StringComparison.Ordinal) ? throw new CardDeclinedException(card) : amount;
        }
        finally
        {
            _concurrentCharges.Release();
        }
    }
}
