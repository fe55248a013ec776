using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A worker that checks for cancellation between taking its permit and entering the try block.</summary>
[Pattern(
    "Cancellation between acquire and try",
    Problem = "A cancellation that arrives just after a worker took its permit leaves the permit taken for ever.",
    Cause = "The cancellation check that throws sits between the acquire and the try block, so its exception skips the finally block; the test cancels from another task, and the acquire polls the token at every scheduling step.",
    Fix = "Check for cancellation before the acquire or inside the try block, never between them.")]
public static class CancelBeforeTry
{
    /// <summary>Two workers on one slot, cancelled by a third task at an arbitrary moment.</summary>
    [Test]
    [ExpectedFailure(FailureKind.Leak)]
    public static async Task CancelBeforeTryBuggy()
    {
        var slot = new Semaphore(1, "slot");
        using var shutdown = new CancellationTokenSource();
        var outcome = new Outcome();

        await Task.WhenAll(new[]
        {
            Task.Run(() => RunAsync(() => WorkBuggyAsync(slot, shutdown.Token), outcome)),
            Task.Run(() => RunAsync(() => WorkBuggyAsync(slot, shutdown.Token), outcome)),
            Task.Run(async () =>
            {
                await Task.Yield();
                shutdown.Cancel();
            }),
        });

        outcome.Check(slot);
    }

    /// <summary>The same workers, checking for cancellation inside the try block.</summary>
    [Test]
    public static async Task CancelBeforeTryFixed()
    {
        var slot = new Semaphore(1, "slot");
        using var shutdown = new CancellationTokenSource();
        var outcome = new Outcome();

        await Task.WhenAll(new[]
        {
            Task.Run(() => RunAsync(() => WorkFixedAsync(slot, shutdown.Token), outcome)),
            Task.Run(() => RunAsync(() => WorkFixedAsync(slot, shutdown.Token), outcome)),
            Task.Run(async () =>
            {
                await Task.Yield();
                shutdown.Cancel();
            }),
        });

        outcome.Check(slot);
    }

    private static async Task WorkBuggyAsync(Semaphore slot, CancellationToken token)
    {
        await slot.AcquireAsync(token);
        token.ThrowIfCancellationRequested();
        try
        {
            await Task.Yield();
        }
        finally
        {
            slot.Release();
        }
    }

    private static async Task WorkFixedAsync(Semaphore slot, CancellationToken token)
    {
        await slot.AcquireAsync(token);
        try
        {
            token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
        finally
        {
            slot.Release();
        }
    }

    // The worker's caller: a cancelled worker is expected during shutdown.
    private static async Task RunAsync(Func<Task> work, Outcome outcome)
    {
        try
        {
            await work();
            outcome.Completed++;
        }
        catch (OperationCanceledException)
        {
            outcome.Cancelled++;
        }
    }

    private sealed class Outcome
    {
        public int Completed { get; set; }

        public int Cancelled { get; set; }

        public void Check(Semaphore slot)
        {
            Specification.Assert(this.Completed + this.Cancelled == 2, "{0} workers completed and {1} were cancelled, of 2.", this.Completed, this.Cancelled);
            Specification.Assert(slot.Value == 1, "'{0}' has {1} of 1 permits free at the end: a permit leaked.", slot.Name, slot.Value);
        }
    }
}
