using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>
/// Limits how many calls run at once, giving up on a call after a short wait.
/// Buggy: the result of the timed wait is ignored, so a call that timed out still runs
/// and still releases a permit it never took: the limiter ends up allowing more calls than its limit.
/// </summary>
public sealed class NaiveRateLimiter
{
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromMilliseconds(50);

    private readonly SemaphoreSlim _gate;
    private readonly object _statsLock = new();
    private int _running;
    private int _peak;

    public NaiveRateLimiter(int limit)
    {
        Limit = limit;
        _gate = new SemaphoreSlim(limit);
    }

    public int Limit { get; }

    public int Available => _gate.CurrentCount;

    public int Peak
    {
        get
        {
            lock (_statsLock)
            {
                return _peak;
            }
        }
    }

    public async Task<bool> TryRunAsync(Func<Task> action)
    {
        try
        {
            await _gate.WaitAsync(QueueTimeout);
            lock (_statsLock)
            {
                _running++;
                _peak = Math.Max(_peak, _running);
            }

            try
            {
                await action();
            }
            finally
            {
                lock (_statsLock)
                {
                    _running--;
                }
            }

            return true;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>The same limiter, rejecting the call when the timed wait fails.</summary>
public sealed class RateLimiter
{
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromMilliseconds(50);

    private readonly SemaphoreSlim _gate;
    private readonly object _statsLock = new();
    private int _running;
    private int _peak;

    public RateLimiter(int limit)
    {
        Limit = limit;
        _gate = new SemaphoreSlim(limit);
    }

    public int Limit { get; }

    public int Available => _gate.CurrentCount;

    public int Peak
    {
        get
        {
            lock (_statsLock)
            {
                return _peak;
            }
        }
    }

    public async Task<bool> TryRunAsync(Func<Task> action)
    {
        if (!await _gate.WaitAsync(QueueTimeout))
        {
            return false;
        }

        try
        {
            lock (_statsLock)
            {
                _running++;
                _peak = Math.Max(_peak, _running);
            }

            try
            {
                await action();
            }
            finally
            {
                lock (_statsLock)
                {
                    _running--;
                }
            }

            return true;
        }
        finally
        {
            _gate.Release();
        }
    }
}

public static class RateLimiterTests
{
    private const int Callers = 4;

    /// <summary>
    /// Four callers through a limit of two. When a wait times out the permit count grows past the limit.
    /// Stock Coyote treats the finite timeout as infinite, so it does not find this one.
    /// </summary>
    [Test]
    public static async Task RateLimiterTimeoutBuggy()
    {
        var limiter = new NaiveRateLimiter(limit: 2);

        var calls = Enumerable.Range(0, Callers)
            .Select(_ => Task.Run(() => limiter.TryRunAsync(() => Task.Delay(100))))
            .ToArray();
        await Task.WhenAll(calls);

        Specification.Assert(limiter.Peak <= limiter.Limit, $"{limiter.Peak} calls ran at once, limit is {limiter.Limit}.");
        Specification.Assert(limiter.Available == limiter.Limit, $"Limiter has {limiter.Available} permits, limit is {limiter.Limit}.");
    }

    /// <summary>The same callers through the limiter that rejects calls whose wait timed out.</summary>
    [Test]
    public static async Task RateLimiterTimeoutFixed()
    {
        var limiter = new RateLimiter(limit: 2);

        var calls = Enumerable.Range(0, Callers)
            .Select(_ => Task.Run(() => limiter.TryRunAsync(() => Task.Delay(100))))
            .ToArray();
        await Task.WhenAll(calls);

        Specification.Assert(limiter.Peak <= limiter.Limit, $"{limiter.Peak} calls ran at once, limit is {limiter.Limit}.");
        Specification.Assert(limiter.Available == limiter.Limit, $"Limiter has {limiter.Available} permits, limit is {limiter.Limit}.");
    }
}
