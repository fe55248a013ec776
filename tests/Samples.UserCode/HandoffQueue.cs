using Microsoft.Coyote.Specifications;
using Monitor = System.Threading.Monitor;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>A bounded hand-off queue on one monitor: producers wait while it is full, consumers while it is empty.</summary>
public sealed class HandoffQueue<T>(int capacity, bool wakeEveryone)
{
    private readonly object _sync = new();
    private readonly Queue<T> _items = new();

    public void Put(T item)
    {
        lock (_sync)
        {
            while (_items.Count == capacity)
            {
                Monitor.Wait(_sync);
            }

            _items.Enqueue(item);
            Wake();
        }
    }

    public T Take()
    {
        lock (_sync)
        {
            while (_items.Count == 0)
            {
                Monitor.Wait(_sync);
            }

            var item = _items.Dequeue();
            Wake();
            return item;
        }
    }

    /// <summary>Buggy with Pulse: producers and consumers wait on one monitor, so the one woken may be of the wrong kind.</summary>
    private void Wake()
    {
        if (wakeEveryone)
        {
            Monitor.PulseAll(_sync);
        }
        else
        {
            Monitor.Pulse(_sync);
        }
    }
}

public static class HandoffQueueTests
{
    /// <summary>Two producers and two consumers over a queue of one slot, woken with Pulse: a wake-up can reach the wrong side and be lost.</summary>
    [Test]
    public static Task PulseInsteadOfPulseAllBuggy() => Exchange(wakeEveryone: false);

    [Test]
    public static Task PulseInsteadOfPulseAllFixed() => Exchange(wakeEveryone: true);

    private static async Task Exchange(bool wakeEveryone)
    {
        var queue = new HandoffQueue<int>(1, wakeEveryone);
        var taken = 0;

        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            queue.Put(p * 10);
            queue.Put((p * 10) + 1);
        }));
        var consumers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            queue.Take();
            queue.Take();
            Interlocked.Add(ref taken, 2);
        }));
        await Task.WhenAll(producers.Concat(consumers).ToArray());

        Specification.Assert(taken == 4, $"Every item should be taken once, {taken} were.");
    }
}
