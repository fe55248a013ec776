using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>A print spool of one slot: printers add reports, a single consumer takes them; a mutex guards the queue.</summary>
public sealed class ReportSpool(bool waitForSlotFirst)
{
    private readonly SemaphoreSlim _mutex = new(1, 1);
    private readonly SemaphoreSlim _slots = new(1);
    private readonly SemaphoreSlim _ready = new(0);
    private readonly Queue<string> _reports = new();

    public async Task PrintAsync(string report)
    {
        if (waitForSlotFirst)
        {
            await _slots.WaitAsync();
        }

        await _mutex.WaitAsync();
        try
        {
            if (!waitForSlotFirst)
            {
                // Buggy: waits for a free slot while holding the mutex the consumer needs to free one.
                await _slots.WaitAsync();
            }

            _reports.Enqueue(report);
            _ready.Release();
        }
        finally
        {
            _mutex.Release();
        }
    }

    public async Task<string> NextAsync()
    {
        await _ready.WaitAsync();
        await _mutex.WaitAsync();
        try
        {
            var report = _reports.Dequeue();
            _slots.Release();
            return report;
        }
        finally
        {
            _mutex.Release();
        }
    }
}

public static class ReportSpoolTests
{
    /// <summary>Two printers and the consumer: the second printer can hold the mutex while it waits for the slot only the consumer frees.</summary>
    [Test]
    public static Task SlotUnderMutexBuggy() => PrintTwo(waitForSlotFirst: false);

    [Test]
    public static Task SlotUnderMutexFixed() => PrintTwo(waitForSlotFirst: true);

    private static async Task PrintTwo(bool waitForSlotFirst)
    {
        var spool = new ReportSpool(waitForSlotFirst);
        var printed = new List<string>();

        var printers = new[] { Task.Run(() => spool.PrintAsync("q3")), Task.Run(() => spool.PrintAsync("q4")) };
        var consumer = Task.Run(async () =>
        {
            printed.Add(await spool.NextAsync());
            printed.Add(await spool.NextAsync());
        });
        await Task.WhenAll([.. printers, consumer]);

        Specification.Assert(printed.Count == 2, $"Both reports should be printed, not {printed.Count}.");
    }
}
