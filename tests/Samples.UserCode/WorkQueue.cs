using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>
/// A bounded queue between worker threads. Buggy: <see cref="Enqueue"/> takes the queue lock and
/// then waits for a free slot, so with a full queue the producer sleeps holding the lock
/// the consumer needs to free a slot.
/// </summary>
public sealed class NaiveWorkQueue<T>
{
    private readonly object _sync = new();
    private readonly Queue<T> _items = new();
    private readonly SemaphoreSlim _freeSlots;
    private readonly SemaphoreSlim _filledSlots;

    public NaiveWorkQueue(int capacity)
    {
        _freeSlots = new SemaphoreSlim(capacity, capacity);
        _filledSlots = new SemaphoreSlim(0, capacity);
    }

    public void Enqueue(T item)
    {
        lock (_sync)
        {
            _freeSlots.Wait();
            _items.Enqueue(item);
        }

        _filledSlots.Release();
    }

    public T Dequeue()
    {
        _filledSlots.Wait();
        T item;
        lock (_sync)
        {
            item = _items.Dequeue();
        }

        _freeSlots.Release();
        return item;
    }
}

/// <summary>The same queue, waiting for a free slot before taking the lock.</summary>
public sealed class WorkQueue<T>
{
    private readonly object _sync = new();
    private readonly Queue<T> _items = new();
    private readonly SemaphoreSlim _freeSlots;
    private readonly SemaphoreSlim _filledSlots;

    public WorkQueue(int capacity)
    {
        _freeSlots = new SemaphoreSlim(capacity, capacity);
        _filledSlots = new SemaphoreSlim(0, capacity);
    }

    public void Enqueue(T item)
    {
        _freeSlots.Wait();
        lock (_sync)
        {
            _items.Enqueue(item);
        }

        _filledSlots.Release();
    }

    public T Dequeue()
    {
        _filledSlots.Wait();
        T item;
        lock (_sync)
        {
            item = _items.Dequeue();
        }

        _freeSlots.Release();
        return item;
    }
}

public static class WorkQueueTests
{
    private const int Jobs = 6;

    /// <summary>A producer and a consumer worker over a queue of capacity two.</summary>
    [Test]
    public static async Task WorkQueueDeadlockBuggy()
    {
        var queue = new NaiveWorkQueue<int>(capacity: 2);
        var processed = new List<int>();

        var producer = Task.Run(() =>
        {
            for (var job = 1; job <= Jobs; job++)
            {
                queue.Enqueue(job);
            }
        });

        var consumer = Task.Run(() =>
        {
            for (var i = 0; i < Jobs; i++)
            {
                processed.Add(queue.Dequeue());
            }
        });

        await Task.WhenAll(new[] { producer, consumer });

        Specification.Assert(processed.SequenceEqual(Enumerable.Range(1, Jobs)), "Jobs were lost or reordered.");
    }

    /// <summary>The same workers over the queue that waits for a slot before locking.</summary>
    [Test]
    public static async Task WorkQueueDeadlockFixed()
    {
        var queue = new WorkQueue<int>(capacity: 2);
        var processed = new List<int>();

        var producer = Task.Run(() =>
        {
            for (var job = 1; job <= Jobs; job++)
            {
                queue.Enqueue(job);
            }
        });

        var consumer = Task.Run(() =>
        {
            for (var i = 0; i < Jobs; i++)
            {
                processed.Add(queue.Dequeue());
            }
        });

        await Task.WhenAll(new[] { producer, consumer });

        Specification.Assert(processed.SequenceEqual(Enumerable.Range(1, Jobs)), "Jobs were lost or reordered.");
    }
}
