namespace Booking;

/// <summary>
/// A home-made async lock in the shape of NeoSmart.AsyncLock: acquiring returns a releaser, and disposing the releaser
/// gives the lock back (the lock itself has no release method). Declared to Systematic with a <c>Dispose</c> release.
/// </summary>
public sealed class GateLock
{
    private readonly SemaphoreSlim _inner = new(1, 1);

    /// <summary>Takes the lock; dispose the result to give it back.</summary>
    public async Task<IDisposable> AcquireAsync()
    {
        await _inner.WaitAsync().ConfigureAwait(false);
        return new Releaser(this);
    }

    private sealed class Releaser(GateLock owner) : IDisposable
    {
        private GateLock? _owner = owner;

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?._inner.Release();
    }
}

/// <summary>Two counters, each behind its own gate, moved between in either direction.</summary>
public sealed class Counters
{
    private readonly GateLock _left = new();
    private readonly GateLock _right = new();

    /// <summary>Gets the left count.</summary>
    public int Left { get; private set; } = 10;

    /// <summary>Gets the right count.</summary>
    public int Right { get; private set; } = 10;

    /// <summary>Moves one from left to right: left gate, then right.</summary>
    public async Task LeftToRightAsync()
    {
        using (await _left.AcquireAsync().ConfigureAwait(false))
        using (await _right.AcquireAsync().ConfigureAwait(false))
        {
            Left--;
            Right++;
        }
    }

    /// <summary>Buggy: moves one from right to left taking the gates in the reverse order.</summary>
    public async Task RightToLeftAsync()
    {
        using (await _right.AcquireAsync().ConfigureAwait(false))
        using (await _left.AcquireAsync().ConfigureAwait(false))
        {
            Right--;
            Left++;
        }
    }

    /// <summary>Fixed: always left gate first.</summary>
    public async Task RightToLeftInOrderAsync()
    {
        using (await _left.AcquireAsync().ConfigureAwait(false))
        using (await _right.AcquireAsync().ConfigureAwait(false))
        {
            Right--;
            Left++;
        }
    }
}
