using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A producer/consumer buffer with a mutex and two slot-counting semaphores.</summary>
[Pattern(
    "Bounded buffer: mutex taken before the slot",
    Problem = "With a full buffer the producer waits for a free slot while holding the mutex, and the consumer that would free the slot waits for the mutex.",
    Cause = "The producer acquires the mutex before the emptySlots semaphore, the reverse of the order in which the consumer's progress needs them.",
    Fix = "Wait for a free slot first and take the mutex only around the buffer update, as the consumer does with fullSlots.")]
public static class BoundedBuffer
{
    private const int Capacity = 1;
    private const int Items = 3;

    /// <summary>The producer takes the mutex, then waits for a free slot.</summary>
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task BoundedBufferBuggy()
    {
        var buffer = new Buffer(new Lock("bufferMutex"), new Semaphore(Capacity, "emptySlots"), new Semaphore(0, "fullSlots"));

        var consumer = Task.Run(buffer.ConsumeAsync);
        var producer = Task.Run(buffer.ProduceBuggyAsync);
        await Task.WhenAll(new[] { producer, consumer });

        buffer.Check(await consumer);
    }

    /// <summary>The producer waits for a free slot, then takes the mutex.</summary>
    [Test]
    public static async Task BoundedBufferFixed()
    {
        var buffer = new Buffer(new Lock("bufferMutex"), new Semaphore(Capacity, "emptySlots"), new Semaphore(0, "fullSlots"));

        var consumer = Task.Run(buffer.ConsumeAsync);
        var producer = Task.Run(buffer.ProduceFixedAsync);
        await Task.WhenAll(new[] { producer, consumer });

        buffer.Check(await consumer);
    }

    private sealed class Buffer(Lock mutex, Semaphore emptySlots, Semaphore fullSlots)
    {
        private readonly Queue<int> items = new();

        public async Task ProduceBuggyAsync()
        {
            for (var item = 1; item <= Items; item++)
            {
                await using (await mutex.HoldAsync())
                {
                    await emptySlots.AcquireAsync();
                    this.items.Enqueue(item);
                }

                fullSlots.Release();
            }
        }

        public async Task ProduceFixedAsync()
        {
            for (var item = 1; item <= Items; item++)
            {
                await emptySlots.AcquireAsync();
                await using (await mutex.HoldAsync())
                {
                    this.items.Enqueue(item);
                }

                fullSlots.Release();
            }
        }

        public async Task<List<int>> ConsumeAsync()
        {
            var consumed = new List<int>();
            for (var i = 0; i < Items; i++)
            {
                await fullSlots.AcquireAsync();
                await using (await mutex.HoldAsync())
                {
                    consumed.Add(this.items.Dequeue());
                }

                emptySlots.Release();
            }

            return consumed;
        }

        public void Check(List<int> consumed)
        {
            Specification.Assert(consumed.SequenceEqual(Enumerable.Range(1, Items)), "The consumer got {0} items out of order or incomplete.", consumed.Count);
            Specification.Assert(this.items.Count == 0, "{0} items are left in the buffer.", this.items.Count);
            Specification.Assert(!mutex.Locked, "'{0}' is still held at the end.", mutex.Name);
            Specification.Assert(emptySlots.Value == Capacity && fullSlots.Value == 0, "emptySlots is {0} (expected {1}) and fullSlots is {2} (expected 0) at the end.", emptySlots.Value, Capacity, fullSlots.Value);
        }
    }
}
