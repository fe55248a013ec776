namespace Booking;

/// <summary>The seats of one show, each taken at most once.</summary>
public sealed class SeatMap(int seats)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<int> _taken = [];

    internal SemaphoreSlim Gate => _gate;

    public int Free => seats - _taken.Count;

    internal bool TryTake(int seat) => seat >= 0 && seat < seats && _taken.Add(seat);
}

/// <summary>Customers waiting for a seat, first come first served.</summary>
public sealed class Waitlist
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Queue<string> _customers = new();

    internal SemaphoreSlim Gate => _gate;

    public int Count => _customers.Count;

    internal void Add(string customer) => _customers.Enqueue(customer);

    internal bool TryNext(out string customer) => _customers.TryDequeue(out customer!);
}

/// <summary>Books seats and promotes waiting customers: two paths over the same two gates.</summary>
public sealed class BookingDesk(SeatMap seats, Waitlist waitlist)
{
    /// <summary>Takes a seat, or puts the customer on the waitlist: seats first, then the waitlist.</summary>
    public async Task<bool> ReserveAsync(string customer, int seat)
    {
        await seats.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await waitlist.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (seats.TryTake(seat))
                {
                    return true;
                }

                waitlist.Add(customer);
                return false;
            }
            finally
            {
                waitlist.Gate.Release();
            }
        }
        finally
        {
            seats.Gate.Release();
        }
    }

    /// <summary>Buggy: gives a freed seat to the next waiting customer, taking the waitlist first, then the seats.</summary>
    public async Task PromoteAsync(int seat)
    {
        await waitlist.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await seats.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (waitlist.TryNext(out _))
                {
                    seats.TryTake(seat);
                }
            }
            finally
            {
                seats.Gate.Release();
            }
        }
        finally
        {
            waitlist.Gate.Release();
        }
    }

    /// <summary>Fixed: the same work, with the gates in the order every path uses (seats, then waitlist).</summary>
    public async Task PromoteInOrderAsync(int seat)
    {
        await seats.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await waitlist.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (waitlist.TryNext(out _))
                {
                    seats.TryTake(seat);
                }
            }
            finally
            {
                waitlist.Gate.Release();
            }
        }
        finally
        {
            seats.Gate.Release();
        }
    }
}
