using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using Systematic;

namespace Samples.UserCode;

/// <summary>A bounded job buffer: <c>_free</c> counts free slots, <c>_queued</c> counts queued jobs (Dijkstra's producer/consumer).</summary>
public sealed class JobBuffer
{
    private readonly SemaphoreSlim _free;
    private readonly SemaphoreSlim _queued = new(0);
    private readonly Queue<string> _jobs = new();

    public JobBuffer(int capacity, bool declareCounters)
    {
        _free = new SemaphoreSlim(capacity);
        if (declareCounters)
        {
            // These semaphores count slots and jobs; they are not locks.
            Signaling.Declare(_free);
            Signaling.Declare(_queued);
        }
    }

    public int Queued
    {
        get
        {
            lock (_jobs)
            {
                return _jobs.Count;
            }
        }
    }

    public async Task PostAsync(string job)
    {
        await _free.WaitAsync();
        lock (_jobs)
        {
            _jobs.Enqueue(job);
        }

        _queued.Release();
    }

    public async Task<string> TakeAsync()
    {
        await _queued.WaitAsync();
        string job;
        lock (_jobs)
        {
            job = _jobs.Dequeue();
        }

        _free.Release();
        return job;
    }
}

/// <summary>A test that leaves a job queued on purpose: only a buffer that declares its counters passes it.</summary>
public static class JobBufferTests
{
    [Test]
    public static Task LeftoverJobUndeclared() => PostThreeTakeTwo(declareCounters: false);

    [Test]
    public static Task LeftoverJobDeclared() => PostThreeTakeTwo(declareCounters: true);

    private static async Task PostThreeTakeTwo(bool declareCounters)
    {
        var buffer = new JobBuffer(capacity: 2, declareCounters);
        var producer = Task.Run(async () =>
        {
            foreach (var job in new[] { "a", "b", "c" })
            {
                await buffer.PostAsync(job);
            }
        });
        var consumer = Task.Run(async () => await buffer.TakeAsync() + await buffer.TakeAsync());
        await Task.WhenAll(new Task[] { producer, consumer });
        Specification.Assert(await consumer == "ab" && buffer.Queued == 1, "Jobs out of order or lost.");
    }
}
