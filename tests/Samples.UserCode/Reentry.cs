using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>A memoizing cache: the value factory runs under the cache's gate.</summary>
public sealed class MemoCache<TKey, TValue>
    where TKey : notnull
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<TKey, TValue> _values = [];

    public async Task<TValue> GetOrAddAsync(TKey key, Func<TKey, Task<TValue>> factory)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_values.TryGetValue(key, out var value))
            {
                value = await factory(key).ConfigureAwait(false);
                _values[key] = value;
            }

            return value;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>A settings store that runs a change callback, kept in a field, while it holds its lock.</summary>
public sealed class SettingsStore
{
    private readonly SemaphoreSlim _sync = new(1, 1);
    private readonly Dictionary<string, string> _values = [];

    public Func<string, Task>? OnChanged { get; set; }

    public async Task<string?> ReadAsync(string key)
    {
        await _sync.WaitAsync();
        try
        {
            return _values.GetValueOrDefault(key);
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary>Buggy: calls back while holding the lock.</summary>
    public async Task WriteAsync(string key, string value)
    {
        await _sync.WaitAsync();
        try
        {
            _values[key] = value;
            if (OnChanged is { } changed)
            {
                await changed(key);
            }
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary>Fixed: calls back after releasing it.</summary>
    public async Task WriteThenNotifyAsync(string key, string value)
    {
        await _sync.WaitAsync();
        try
        {
            _values[key] = value;
        }
        finally
        {
            _sync.Release();
        }

        if (OnChanged is { } changed)
        {
            await changed(key);
        }
    }
}

/// <summary>Runs work items one at a time; an item may enqueue more work through the runner it was given.</summary>
public sealed class SerialRunner
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    public async Task RunAsync(Func<SerialRunner, Task> work)
    {
        await _turn.WaitAsync();
        try
        {
            await work(this);
        }
        finally
        {
            _turn.Release();
        }
    }
}

public static class ReentryTests
{
    /// <summary>A factory that computes a value from another key of the same cache: it re-enters the cache's gate.</summary>
    [Test]
    public static async Task RecursiveFactoryBuggy()
    {
        var cache = new MemoCache<int, int>();

        Task<int> Fib(int n) => cache.GetOrAddAsync(n, async k => k < 2 ? k : await Fib(k - 1) + await Fib(k - 2));

        var value = await Fib(3);

        Specification.Assert(value == 2, $"fib(3) is 2, not {value}.");
    }

    [Test]
    public static async Task RecursiveFactoryFixed()
    {
        var cache = new MemoCache<int, int>();

        // Compute outside the cache, store the results through it.
        static int Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);
        var values = await Task.WhenAll(new[] { Task.Run(() => cache.GetOrAddAsync(3, k => Task.FromResult(Fib(k)))), Task.Run(() => cache.GetOrAddAsync(2, k => Task.FromResult(Fib(k)))) });

        Specification.Assert(values[0] == 2 && values[1] == 1, "fib(3) is 2 and fib(2) is 1.");
    }

    /// <summary>A change callback, stored in a property, reads the store back while the write still holds its lock.</summary>
    [Test]
    public static async Task StoredCallbackBuggy()
    {
        var store = new SettingsStore();
        var seen = new List<string?>();
        store.OnChanged = async key => seen.Add(await store.ReadAsync(key));

        await Task.WhenAll(new[] { Task.Run(() => store.WriteAsync("theme", "dark")), Task.Run(() => store.ReadAsync("theme")) });
    }

    [Test]
    public static async Task StoredCallbackFixed()
    {
        var store = new SettingsStore();
        var seen = new List<string?>();
        store.OnChanged = async key => seen.Add(await store.ReadAsync(key));

        await Task.WhenAll(new[] { Task.Run(() => store.WriteThenNotifyAsync("theme", "dark")), Task.Run(() => store.ReadAsync("theme")) });

        Specification.Assert(seen.Count == 1 && seen[0] == "dark", "The callback should read the new value once.");
    }

    /// <summary>A work item passed as a Func parameter runs a nested item through the same runner.</summary>
    [Test]
    public static async Task NestedWorkItemBuggy()
    {
        var runner = new SerialRunner();
        var done = 0;

        await runner.RunAsync(async r =>
        {
            await r.RunAsync(_ =>
            {
                done++;
                return Task.CompletedTask;
            });
            done++;
        });

        Specification.Assert(done == 2, "Both items should run.");
    }

    [Test]
    public static async Task NestedWorkItemFixed()
    {
        var runner = new SerialRunner();
        var done = 0;

        await runner.RunAsync(_ =>
        {
            done++;
            return Task.CompletedTask;
        });
        await runner.RunAsync(_ =>
        {
            done++;
            return Task.CompletedTask;
        });

        Specification.Assert(done == 2, "Both items should run.");
    }
}
