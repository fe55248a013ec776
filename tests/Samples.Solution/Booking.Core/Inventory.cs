namespace Booking;

/// <summary>The seats left for sale, behind an interface as a container hands it out.</summary>
public interface ISeatInventory
{
    /// <summary>Takes the inventory's lock; disposing the lease gives it back.</summary>
    Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets the seats sold.</summary>
    int Sold { get; }

    /// <summary>Marks seats sold; the caller holds the lock.</summary>
    void Sell(int count);
}

/// <summary>The fare table, behind an interface.</summary>
public interface IFareTable
{
    /// <summary>Takes the table's lock; disposing the lease gives it back.</summary>
    Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets the current fare.</summary>
    decimal Fare { get; }

    /// <summary>Sets the fare; the caller holds the lock.</summary>
    void Reprice(decimal fare);
}

/// <summary>A lock given back when disposed.</summary>
internal sealed class Lease(SemaphoreSlim gate) : IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        gate.Release();
        return ValueTask.CompletedTask;
    }
}

/// <inheritdoc />
public sealed class SeatInventory : ISeatInventory
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    public int Sold { get; private set; }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(_gate);
    }

    /// <inheritdoc />
    public void Sell(int count) => Sold += count;
}

/// <inheritdoc />
public sealed class FareTable : IFareTable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    public decimal Fare { get; private set; } = 100m;

    /// <inheritdoc />
    public async Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(_gate);
    }

    /// <inheritdoc />
    public void Reprice(decimal fare) => Fare = fare;
}

/// <summary>Sells seats at the current fare: inventory first, then fares.</summary>
public sealed class Checkout(ISeatInventory seats, IFareTable fares)
{
    /// <summary>Sells seats and returns what they cost.</summary>
    public async Task<decimal> BuyAsync(int count)
    {
        await using (await seats.LockAsync().ConfigureAwait(false))
        await using (await fares.LockAsync().ConfigureAwait(false))
        {
            seats.Sell(count);
            return fares.Fare * count;
        }
    }
}

/// <summary>Raises the fare as seats sell.</summary>
public sealed class Repricing(ISeatInventory seats, IFareTable fares)
{
    /// <summary>Buggy: takes fares, then the inventory, the reverse of checkout.</summary>
    public async Task RunAsync()
    {
        await using (await fares.LockAsync().ConfigureAwait(false))
        await using (await seats.LockAsync().ConfigureAwait(false))
        {
            fares.Reprice(100m + seats.Sold);
        }
    }

    /// <summary>Fixed: the same order as checkout.</summary>
    public async Task RunInOrderAsync()
    {
        await using (await seats.LockAsync().ConfigureAwait(false))
        await using (await fares.LockAsync().ConfigureAwait(false))
        {
            fares.Reprice(100m + seats.Sold);
        }
    }
}
