using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A handler whose finally block releases a worker permit even when validation failed before the acquire.</summary>
[Pattern(
    "Release without acquire",
    Problem = "The worker semaphore is released once more than it was acquired, and the bounded semaphore throws (a plain one would silently grow past its limit).",
    Cause = "The acquire is inside the try block after a validation that can throw, so the finally block releases a permit this path never took.",
    Fix = "Validate and acquire before entering the try block, so the finally block runs only once a permit is held.")]
public static class OverRelease
{
    private const int Workers = 2;

    /// <summary>Three requests, one invalid; the invalid one releases a permit it never took.</summary>
    [Test]
    [ExpectedFailure(FailureKind.OverRelease)]
    public static async Task OverReleaseBuggy()
    {
        var workers = new BoundedSemaphore(Workers, "workers");
        var outcome = new Outcome();

        await Task.WhenAll(new[]
        {
            Task.Run(() => ServeAsync(() => HandleBuggyAsync(workers, "report"), outcome)),
            Task.Run(() => ServeAsync(() => HandleBuggyAsync(workers, ""), outcome)),
            Task.Run(() => ServeAsync(() => HandleBuggyAsync(workers, "invoice"), outcome)),
        });

        outcome.Check(workers);
    }

    /// <summary>The same requests, acquiring before the try block.</summary>
    [Test]
    public static async Task OverReleaseFixed()
    {
        var workers = new BoundedSemaphore(Workers, "workers");
        var outcome = new Outcome();

        await Task.WhenAll(new[]
        {
            Task.Run(() => ServeAsync(() => HandleFixedAsync(workers, "report"), outcome)),
            Task.Run(() => ServeAsync(() => HandleFixedAsync(workers, ""), outcome)),
            Task.Run(() => ServeAsync(() => HandleFixedAsync(workers, "invoice"), outcome)),
        });

        outcome.Check(workers);
    }

    private static async Task HandleBuggyAsync(BoundedSemaphore workers, string document)
    {
        try
        {
            Validate(document);
            await workers.AcquireAsync();
            await RenderAsync();
        }
        finally
        {
            workers.Release();
        }
    }

    private static async Task HandleFixedAsync(BoundedSemaphore workers, string document)
    {
        Validate(document);
        await workers.AcquireAsync();
        try
        {
            await RenderAsync();
        }
        finally
        {
            workers.Release();
        }
    }

    private static void Validate(string document)
    {
        if (document.Length == 0)
        {
            throw new ArgumentException("The document name is empty.", nameof(document));
        }
    }

    private static async Task RenderAsync()
    {
        await Task.Yield();
    }

    // The request handler's caller: an invalid request is answered with an error, not fatal.
    private static async Task ServeAsync(Func<Task> request, Outcome outcome)
    {
        try
        {
            await request();
            outcome.Served++;
        }
        catch (ArgumentException)
        {
            outcome.Rejected++;
        }
    }

    private sealed class Outcome
    {
        public int Served { get; set; }

        public int Rejected { get; set; }

        public void Check(BoundedSemaphore workers)
        {
            Specification.Assert(this.Served == 2 && this.Rejected == 1, "Expected 2 served and 1 rejected request, got {0} and {1}.", this.Served, this.Rejected);
            Specification.Assert(workers.Value == Workers, "'{0}' has {1} of {2} permits free at the end.", workers.Name, workers.Value, Workers);
        }
    }
}
