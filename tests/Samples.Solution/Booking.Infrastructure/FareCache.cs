using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nito.AsyncEx;

namespace Booking.Infrastructure;

/// <summary>Fares per route, loaded once and cached under a Nito.AsyncEx <see cref="AsyncLock"/>.</summary>
public sealed class FareCache(Func<string, ValueTask<decimal>> loadFare)
{
    private readonly AsyncLock _sync = new();
    private readonly Dictionary<string, decimal> _fares = new(StringComparer.Ordinal);

    /// <summary>Called after a fare changed, with the route.</summary>
    public Func<string, Task>? FareChanged { get; set; }

    public ILogger Log { get; init; } = NullLogger.Instance;

    public async Task<decimal> FareAsync(string route)
    {
        using (await _sync.LockAsync().ConfigureAwait(false))
        {
            if (!_fares.TryGetValue(route, out var fare))
            {
                fare = await loadFare(route).ConfigureAwait(false);
                _fares[route] = fare;
                Log.LogDebug("Loaded the fare of {Route}: {Fare}", route, fare);
            }

            return fare;
        }
    }

    /// <summary>Buggy: tells listeners while still holding the lock; a listener that reads a fare takes it again.</summary>
    public async Task ReloadAsync(string route)
    {
        using (await _sync.LockAsync().ConfigureAwait(false))
        {
            _fares[route] = await loadFare(route).ConfigureAwait(false);
            if (FareChanged is { } changed)
            {
                await changed(route).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Fixed: updates under the lock, tells listeners after releasing it.</summary>
    public async Task ReloadThenNotifyAsync(string route)
    {
        using (await _sync.LockAsync().ConfigureAwait(false))
        {
            _fares[route] = await loadFare(route).ConfigureAwait(false);
        }

        if (FareChanged is { } changed)
        {
            await changed(route).ConfigureAwait(false);
        }
    }
}
