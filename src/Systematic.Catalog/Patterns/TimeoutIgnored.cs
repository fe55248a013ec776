using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A query that waits at most a second for the connection, ignores whether it got it, and releases anyway.</summary>
[Pattern(
    "Timed acquire whose result is ignored",
    Problem = "When the wait for the connection times out, the query runs without it and then releases a permit it never took, overflowing the bounded semaphore.",
    Cause = "The bool returned by AcquireAsync(timeout) is discarded and the finally block releases unconditionally; the test models the timeout as a scheduler choice that may fire at any step while the acquire would block.",
    Fix = "Check the result: on a timeout give up without touching the semaphore, and enter the try/finally only after the acquire succeeded.")]
public static class TimeoutIgnored
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Two queries on one connection, each ignoring the result of its timed acquire.</summary>
    [Test]
    [ExpectedFailure(FailureKind.OverRelease)]
    public static async Task TimeoutIgnoredBuggy()
    {
        var connection = new BoundedSemaphore(1, "dbConnection");
        var stats = new Stats();

        await Task.WhenAll(new[]
        {
            Task.Run(() => QueryBuggyAsync(connection, stats)),
            Task.Run(() => QueryBuggyAsync(connection, stats)),
        });

        stats.Check(connection);
    }

    /// <summary>The same queries, giving up when the timed acquire fails.</summary>
    [Test]
    public static async Task TimeoutIgnoredFixed()
    {
        var connection = new BoundedSemaphore(1, "dbConnection");
        var stats = new Stats();

        await Task.WhenAll(new[]
        {
            Task.Run(() => QueryFixedAsync(connection, stats)),
            Task.Run(() => QueryFixedAsync(connection, stats)),
        });

        stats.Check(connection);
    }

    private static async Task QueryBuggyAsync(BoundedSemaphore connection, Stats stats)
    {
        try
        {
            await connection.AcquireAsync(QueryTimeout);
            await stats.RunAsync();
        }
        finally
        {
            connection.Release();
        }
    }

    private static async Task QueryFixedAsync(BoundedSemaphore connection, Stats stats)
    {
        if (!await connection.AcquireAsync(QueryTimeout))
        {
            stats.TimedOut++;
            return;
        }

        try
        {
            await stats.RunAsync();
        }
        finally
        {
            connection.Release();
        }
    }

    private sealed class Stats
    {
        private int inside;
        private int peak;

        public int Completed { get; private set; }

        public int TimedOut { get; set; }

        public async Task RunAsync()
        {
            this.inside++;
            this.peak = Math.Max(this.peak, this.inside);
            await Task.Yield();
            this.inside--;
            this.Completed++;
        }

        public void Check(BoundedSemaphore connection)
        {
            Specification.Assert(this.peak <= 1, "{0} queries used the single connection at once.", this.peak);
            Specification.Assert(this.Completed + this.TimedOut == 2, "{0} queries completed and {1} timed out, of 2.", this.Completed, this.TimedOut);
            Specification.Assert(connection.Value == 1, "'{0}' has {1} of 1 permits free at the end.", connection.Name, connection.Value);
        }
    }
}
