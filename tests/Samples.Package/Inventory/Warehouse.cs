using Nito.AsyncEx;

namespace Inventory;

/// <summary>Stock of two bins, each guarded by a .NET 9+ <see cref="Lock"/>.</summary>
public sealed class Warehouse
{
    private readonly Lock shelf = new();
    private readonly Lock ledger = new();
    private int onShelf = 10;
    private int booked;

    /// <summary>Moves items from the shelf to the ledger: shelf, then ledger.</summary>
    public async Task PickAsync(int count)
    {
        await Task.Yield();
        lock (this.shelf)
        {
            lock (this.ledger)
            {
                this.onShelf -= count;
                this.booked += count;
            }
        }
    }

    /// <summary>Returns items: ledger, then shelf (the opposite order: a deadlock with <see cref="PickAsync"/>).</summary>
    public async Task ReturnAsync(int count)
    {
        await Task.Yield();
        lock (this.ledger)
        {
            lock (this.shelf)
            {
                this.onShelf += count;
                this.booked -= count;
            }
        }
    }

    /// <summary>Returns items in the same order as <see cref="PickAsync"/>.</summary>
    public async Task ReturnInOrderAsync(int count)
    {
        await Task.Yield();
        lock (this.shelf)
        {
            lock (this.ledger)
            {
                this.onShelf += count;
                this.booked -= count;
            }
        }
    }

    public int Total
    {
        get
        {
            lock (this.shelf)
            {
                return this.onShelf + this.booked;
            }
        }
    }
}

/// <summary>Runs at most two restocks at once (Nito.AsyncEx's AsyncSemaphore).</summary>
public sealed class Restocker
{
    private readonly AsyncSemaphore slots = new(2);

    public int Completed { get; private set; }

    /// <summary>Leaks its slot when the supplier throws.</summary>
    public async Task RestockAsync(Func<Task> supplier)
    {
        await this.slots.WaitAsync().ConfigureAwait(false);
        await supplier().ConfigureAwait(false);
        this.Completed++;
        this.slots.Release();
    }

    /// <summary>Gives its slot back whatever happens.</summary>
    public async Task RestockSafelyAsync(Func<Task> supplier)
    {
        await this.slots.WaitAsync().ConfigureAwait(false);
        try
        {
            await supplier().ConfigureAwait(false);
            this.Completed++;
        }
        finally
        {
            this.slots.Release();
        }
    }
}
