using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.Uncontrolled;

/// <summary>A hit counter guarded by the .NET 9 <see cref="Lock"/> type.</summary>
public sealed class HitCounter
{
    private readonly Lock _lock = new();
    private int _hits;

    public void Hit()
    {
        // `lock` on a System.Threading.Lock compiles to Lock.EnterScope(), not Monitor: silently uncontrolled by Coyote 1.7.11, controlled by Systematic.
        lock (_lock)
        {
            _hits++;
        }
    }

    public int Hits
    {
        get
        {
            lock (_lock)
            {
                return _hits;
            }
        }
    }
}

/// <summary>A read-mostly price cache guarded by a reader/writer lock.</summary>
public sealed class PriceCache
{
    private readonly ReaderWriterLockSlim _cacheLock = new();
    private readonly Dictionary<string, decimal> _prices = [];

    public void Set(string sku, decimal price)
    {
        // ReaderWriterLockSlim: reported as uncontrolled.
        _cacheLock.EnterWriteLock();
        try
        {
            _prices[sku] = price;
        }
        finally
        {
            _cacheLock.ExitWriteLock();
        }
    }

    public decimal? Get(string sku)
    {
        _cacheLock.EnterReadLock();
        try
        {
            return _prices.TryGetValue(sku, out var price) ? price : null;
        }
        finally
        {
            _cacheLock.ExitReadLock();
        }
    }
}

/// <summary>Each test plants one call that Coyote 1.7.11 does not control. They are not meant to find bugs.</summary>
public static class UncontrolledTests
{
    // Shared by every iteration: Coyote fails with "created in a previous test iteration" from the second one on.
    private static readonly SemaphoreSlim SharedGate = new(1, 1);

    private static Task WorkAsync(int value, List<int> results)
    {
        return Task.Run(() =>
        {
            lock (results)
            {
                results.Add(value);
            }
        });
    }

    /// <summary>Task.WhenAll(t1, t2) binds to WhenAll(params ReadOnlySpan&lt;Task&gt;) on .NET 9+: uncontrolled by Coyote 1.7.11, controlled by Systematic.</summary>
    [Test]
    public static async Task WhenAllSpanOverload()
    {
        var results = new List<int>();
        var t1 = WorkAsync(1, results);
        var t2 = WorkAsync(2, results);

        await Task.WhenAll(t1, t2);

        Specification.Assert(results.Count == 2, "Both tasks should have run.");
    }

    /// <summary>
    /// Task.WhenAny(t1, t2). Unlike WhenAll, this binds to the exact WhenAny(Task, Task) overload,
    /// which Coyote 1.7.11 does rewrite: a look-alike that stock Coyote controls.
    /// </summary>
    [Test]
    public static async Task WhenAnyTwoTasks()
    {
        var results = new List<int>();
        var t1 = WorkAsync(1, results);
        var t2 = WorkAsync(2, results);

        var first = await Task.WhenAny(t1, t2);
        await first;
        await t1;
        await t2;

        Specification.Assert(results.Count == 2, "Both tasks should have run.");
    }

    /// <summary>Task.WhenAny(t1, t2, t3) binds to WhenAny(params ReadOnlySpan&lt;Task&gt;) on .NET 9+: uncontrolled by Coyote 1.7.11, controlled by Systematic.</summary>
    [Test]
    public static async Task WhenAnySpanOverload()
    {
        var results = new List<int>();
        var t1 = WorkAsync(1, results);
        var t2 = WorkAsync(2, results);
        var t3 = WorkAsync(3, results);

        await await Task.WhenAny(t1, t2, t3);
        await Task.WhenAll(new[] { t1, t2, t3 });

        Specification.Assert(results.Count == 3, "All three tasks should have run.");
    }

    /// <summary>System.Threading.Lock with <c>lock (_lock)</c>: silently uncontrolled by Coyote 1.7.11, controlled by Systematic.</summary>
    [Test]
    public static async Task ThreadingLockCounter()
    {
        var counter = new HitCounter();

        await Task.WhenAll(new[]
        {
            Task.Run(counter.Hit),
            Task.Run(counter.Hit),
        });

        Specification.Assert(counter.Hits == 2, $"Expected 2 hits, counted {counter.Hits}.");
    }

    /// <summary>ReaderWriterLockSlim: reported as uncontrolled.</summary>
    [Test]
    public static async Task ReaderWriterLockSlimCache()
    {
        var cache = new PriceCache();

        await Task.WhenAll(new[]
        {
            Task.Run(() => cache.Set("apple", 1.25m)),
            Task.Run(() => cache.Set("pear", 2.50m)),
        });

        Specification.Assert(cache.Get("apple") == 1.25m, "The apple price was lost.");
    }

    /// <summary>ManualResetEventSlim: reported as uncontrolled.</summary>
    [Test]
    public static async Task ManualResetEventSlimSignal()
    {
        using var ready = new ManualResetEventSlim(false);
        var value = 0;

        var writer = Task.Run(() =>
        {
            value = 42;
            ready.Set();
        });

        var reader = Task.Run(() =>
        {
            ready.Wait();
            return value;
        });

        await writer;
        Specification.Assert(await reader == 42, "The reader saw the value before it was written.");
    }

    /// <summary>SemaphoreSlim.AvailableWaitHandle: not modelled (Coyote fails an assertion).</summary>
    [Test]
    public static async Task AvailableWaitHandleWait()
    {
        using var gate = new SemaphoreSlim(1, 1);

        await Task.Run(() => gate.AvailableWaitHandle.WaitOne());
        await gate.WaitAsync();
        gate.Release();
    }

    /// <summary>System.Threading.Timer: its callback runs on an uncontrolled thread.</summary>
    [Test]
    public static async Task TimerCallback()
    {
        var fired = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        using var timer = new Timer(_ => fired.TrySetResult(true), null, dueTime: 10, period: Timeout.Infinite);

        Specification.Assert(await fired.Task, "The timer never fired.");
    }

    /// <summary>ThreadPool.QueueUserWorkItem: reported as uncontrolled.</summary>
    [Test]
    public static async Task ThreadPoolWorkItem()
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        ThreadPool.QueueUserWorkItem(_ => done.TrySetResult(7));

        Specification.Assert(await done.Task == 7, "The work item did not run.");
    }

    /// <summary>A static readonly SemaphoreSlim shared across iterations: fails from the second iteration on.</summary>
    [Test]
    public static async Task StaticSemaphoreAcrossIterations()
    {
        await SharedGate.WaitAsync();
        try
        {
            await Task.Yield();
        }
        finally
        {
            SharedGate.Release();
        }
    }

    /// <summary>Parallel.ForEachAsync: its bodies run on threads Coyote did not start, and a SemaphoreSlim.Wait there stops Coyote.</summary>
    [Test]
    public static async Task ParallelForEachWithSemaphore()
    {
        using var gate = new SemaphoreSlim(2, 2);

        await Parallel.ForEachAsync(new[] { 1, 2, 3 }, async (item, token) =>
        {
            gate.Wait(token);
            try
            {
                await Task.Yield();
            }
            finally
            {
                gate.Release();
            }
        });
    }

    /// <summary>Task.WhenEach (.NET 9+): unknown to Coyote 1.7.11.</summary>
    [Test]
    public static async Task WhenEachTasks()
    {
        var results = new List<int>();
        var tasks = new[] { WorkAsync(1, results), WorkAsync(2, results) };

        var completed = 0;
        await foreach (var task in Task.WhenEach(tasks))
        {
            await task;
            completed++;
        }

        Specification.Assert(completed == 2, "WhenEach should yield both tasks.");
    }

    /// <summary>Only controlled primitives: SemaphoreSlim on a local, Task.Run, and Task.WhenAll with an array.</summary>
    [Test]
    public static async Task CleanFixed()
    {
        var gate = new SemaphoreSlim(1, 1);
        var total = 0;

        async Task AddAsync(int amount)
        {
            await gate.WaitAsync();
            try
            {
                var current = total;
                await Task.Yield();
                total = current + amount;
            }
            finally
            {
                gate.Release();
            }
        }

        await Task.WhenAll(new[]
        {
            Task.Run(() => AddAsync(1)),
            Task.Run(() => AddAsync(2)),
            Task.Run(() => AddAsync(3)),
        });

        Specification.Assert(total == 6, $"Expected a total of 6, got {total}.");
        Specification.Assert(gate.CurrentCount == 1, "The gate was not released.");
    }
}
