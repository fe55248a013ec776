using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>Four downloads gathered at once, which a semaphore should limit to two at a time.</summary>
[Pattern(
    "Concurrency limit that limits nothing",
    Problem = "More downloads run at once than the limit of two allows.",
    Cause = "Each download creates its own semaphore, so every download finds two free permits of its own and nobody ever waits.",
    Fix = "Create one semaphore before starting the downloads and share it between all of them.")]
public static class BoundedGather
{
    private const int Limit = 2;
    private const int Downloads = 4;

    /// <summary>Each download builds a fresh semaphore inside the worker.</summary>
    [Test]
    [ExpectedFailure(FailureKind.InvariantViolation)]
    public static async Task BoundedGatherBuggy()
    {
        var occupancy = new Occupancy();

        async Task DownloadAsync(int id)
        {
            // Limit the number of simultaneous downloads.
            var limiter = new Semaphore(Limit, "downloads");
            await using (await limiter.HoldAsync())
            {
                await occupancy.WorkAsync();
            }
        }

        var downloads = new Task[Downloads];
        for (var i = 0; i < Downloads; i++)
        {
            var id = i;
            downloads[i] = Task.Run(() => DownloadAsync(id));
        }

        await Task.WhenAll(downloads);

        occupancy.Check();
    }

    /// <summary>One semaphore, created before the downloads start, shared by all of them.</summary>
    [Test]
    public static async Task BoundedGatherFixed()
    {
        var occupancy = new Occupancy();
        var limiter = new Semaphore(Limit, "downloads");

        async Task DownloadAsync(int id)
        {
            await using (await limiter.HoldAsync())
            {
                await occupancy.WorkAsync();
            }
        }

        var downloads = new Task[Downloads];
        for (var i = 0; i < Downloads; i++)
        {
            var id = i;
            downloads[i] = Task.Run(() => DownloadAsync(id));
        }

        await Task.WhenAll(downloads);

        occupancy.Check();
        Specification.Assert(limiter.Value == Limit, "'{0}' has {1} of {2} permits free at the end: a permit leaked.", limiter.Name, limiter.Value, Limit);
    }

    private sealed class Occupancy
    {
        private int inside;
        private int peak;
        private int done;

        public async Task WorkAsync()
        {
            this.inside++;
            this.peak = Math.Max(this.peak, this.inside);
            Specification.Assert(this.inside <= Limit, "{0} downloads run at once; the limit is {1}.", this.inside, Limit);

            // Connect, then read the body.
            await Task.Yield();
            await Task.Yield();

            this.inside--;
            this.done++;
        }

        public void Check()
        {
            Specification.Assert(this.peak <= Limit, "Up to {0} downloads ran at once; the limit is {1}.", this.peak, Limit);
            Specification.Assert(this.inside == 0 && this.done == Downloads, "{0} of {1} downloads finished.", this.done, Downloads);
        }
    }
}
