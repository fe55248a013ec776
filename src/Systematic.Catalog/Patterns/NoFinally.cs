using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A permit taken before work that can throw, and given back only when the work succeeds.</summary>
[Pattern(
    "Release not in finally",
    Problem = "A request that fails never gives its connection permit back, so the requests after it wait for ever.",
    Cause = "The release is the last statement of the happy path instead of a finally block, and the exception skips it.",
    Fix = "Give the permit back in a finally block (or hold it with await using), so every exit path releases it.")]
public static class NoFinally
{
    private const int Connections = 1;

    /// <summary>Three requests share one connection; the broken one throws while holding it.</summary>
    [Test]
    [ExpectedFailure(FailureKind.Leak)]
    public static async Task NoFinallyBuggy()
    {
        var connections = new Semaphore(Connections, "connections");
        var outcome = new Outcome();

        await Task.WhenAll(new[]
        {
            Task.Run(() => ServeAsync(() => FetchBuggyAsync(connections, "/ok-1"), outcome)),
            Task.Run(() => ServeAsync(() => FetchBuggyAsync(connections, "/broken"), outcome)),
            Task.Run(() => ServeAsync(() => FetchBuggyAsync(connections, "/ok-2"), outcome)),
        });

        outcome.Check(connections);
    }

    /// <summary>The same requests, with the release in a finally block.</summary>
    [Test]
    public static async Task NoFinallyFixed()
    {
        var connections = new Semaphore(Connections, "connections");
        var outcome = new Outcome();

        await Task.WhenAll(new[]
        {
            Task.Run(() => ServeAsync(() => FetchFixedAsync(connections, "/ok-1"), outcome)),
            Task.Run(() => ServeAsync(() => FetchFixedAsync(connections, "/broken"), outcome)),
            Task.Run(() => ServeAsync(() => FetchFixedAsync(connections, "/ok-2"), outcome)),
        });

        outcome.Check(connections);
    }

    private static async Task FetchBuggyAsync(Semaphore connections, string path)
    {
        await connections.AcquireAsync();

        // The finally block below makes sure the connection is always released, even if the request fails.
        await SendAsync(path);
        connections.Release();
    }

    private static async Task FetchFixedAsync(Semaphore connections, string path)
    {
        await connections.AcquireAsync();
        try
        {
            await SendAsync(path);
        }
        finally
        {
            connections.Release();
        }
    }

    private static async Task SendAsync(string path)
    {
        await Task.Yield();
        if (path.Contains("broken", StringComparison.Ordinal))
        {
            throw new IOException($"GET {path} failed.");
        }
    }

    // The request handler's caller: a failed request is logged, not fatal.
    private static async Task ServeAsync(Func<Task> request, Outcome outcome)
    {
        try
        {
            await request();
            outcome.Served++;
        }
        catch (IOException)
        {
            outcome.Failed++;
        }
    }

    private sealed class Outcome
    {
        public int Served { get; set; }

        public int Failed { get; set; }

        public void Check(Semaphore connections)
        {
            Specification.Assert(this.Served == 2 && this.Failed == 1, "Expected 2 served and 1 failed request, got {0} and {1}.", this.Served, this.Failed);
            Specification.Assert(connections.Value == Connections, "'{0}' has {1} of {2} permits free at the end: a permit leaked.", connections.Name, connections.Value, Connections);
        }
    }
}
