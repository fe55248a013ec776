using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>
/// An in-process event bus. Buggy: subscribers run while the guard is held, so a subscriber
/// that subscribes or publishes waits on the guard its own flow already holds.
/// </summary>
public sealed class NaiveEventBus
{
    private readonly SemaphoreSlim _guard = new(1, 1);
    private readonly List<Func<string, Task>> _subscribers = [];

    public async Task SubscribeAsync(Func<string, Task> handler)
    {
        await _guard.WaitAsync();
        try
        {
            _subscribers.Add(handler);
        }
        finally
        {
            _guard.Release();
        }
    }

    public async Task PublishAsync(string message)
    {
        await _guard.WaitAsync();
        try
        {
            foreach (var handler in _subscribers)
            {
                await handler(message);
            }
        }
        finally
        {
            _guard.Release();
        }
    }
}

/// <summary>The same bus, taking a snapshot of the subscribers under the guard and calling them outside it.</summary>
public sealed class EventBus
{
    private readonly SemaphoreSlim _guard = new(1, 1);
    private readonly List<Func<string, Task>> _subscribers = [];

    public async Task SubscribeAsync(Func<string, Task> handler)
    {
        await _guard.WaitAsync();
        try
        {
            _subscribers.Add(handler);
        }
        finally
        {
            _guard.Release();
        }
    }

    public async Task PublishAsync(string message)
    {
        Func<string, Task>[] snapshot;
        await _guard.WaitAsync();
        try
        {
            snapshot = [.. _subscribers];
        }
        finally
        {
            _guard.Release();
        }

        foreach (var handler in snapshot)
        {
            await handler(message);
        }
    }
}

public static class EventBusTests
{
    /// <summary>A subscriber reacts to "user-joined" by subscribing a greeter: it re-enters the held guard.</summary>
    [Test]
    public static async Task EventBusReentryBuggy()
    {
        var bus = new NaiveEventBus();
        var received = new List<string>();
        var receivedLock = new object();

        await bus.SubscribeAsync(async message =>
        {
            lock (receivedLock)
            {
                received.Add(message);
            }

            if (message == "user-joined")
            {
                await bus.SubscribeAsync(greeting =>
                {
                    lock (receivedLock)
                    {
                        received.Add("greeter:" + greeting);
                    }

                    return Task.CompletedTask;
                });
            }
        });

        await Task.WhenAll(new[]
        {
            Task.Run(() => bus.PublishAsync("user-joined")),
            Task.Run(() => bus.PublishAsync("heartbeat")),
        });

        Specification.Assert(received.Contains("user-joined"), "The join event was never delivered.");
    }

    /// <summary>The same subscriber on the bus that invokes subscribers outside the guard.</summary>
    [Test]
    public static async Task EventBusReentryFixed()
    {
        var bus = new EventBus();
        var received = new List<string>();
        var receivedLock = new object();

        await bus.SubscribeAsync(async message =>
        {
            lock (receivedLock)
            {
                received.Add(message);
            }

            if (message == "user-joined")
            {
                await bus.SubscribeAsync(greeting =>
                {
                    lock (receivedLock)
                    {
                        received.Add("greeter:" + greeting);
                    }

                    return Task.CompletedTask;
                });
            }
        });

        await Task.WhenAll(new[]
        {
            Task.Run(() => bus.PublishAsync("user-joined")),
            Task.Run(() => bus.PublishAsync("heartbeat")),
        });

        Specification.Assert(received.Contains("user-joined"), "The join event was never delivered.");
        Specification.Assert(received.Contains("heartbeat"), "The heartbeat event was never delivered.");
    }
}
