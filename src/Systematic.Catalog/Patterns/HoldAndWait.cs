using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A recursive crawler that keeps its fetch permit while it waits for the pages it links to.</summary>
[Pattern(
    "Hold a permit while waiting for children",
    Problem = "The crawl stops for ever once every fetch permit is held by a page that waits for its linked pages.",
    Cause = "A page keeps its permit of the Semaphore(2) while it awaits child crawls that each need a permit from the same semaphore.",
    Fix = "Hold the permit only for the fetch itself and release it before awaiting the children.")]
public static class HoldAndWait
{
    private const int FetchSlots = 2;

    /// <summary>The root links to two pages and one of them to a third; permits are held across the child crawls.</summary>
    [Test]
    [ExpectedFailure(FailureKind.HoldAndWait)]
    public static async Task HoldAndWaitBuggy()
    {
        var slots = new Semaphore(FetchSlots, "fetchSlots");
        var visited = new List<string>();

        async Task CrawlAsync(string url)
        {
            await using (await slots.HoldAsync())
            {
                var links = await FetchAsync(url, visited);
                var children = new Task[links.Length];
                for (var i = 0; i < links.Length; i++)
                {
                    children[i] = CrawlAsync(links[i]);
                }

                await Task.WhenAll(children);
            }
        }

        await CrawlAsync("/");

        Check(slots, visited);
    }

    /// <summary>The same crawl, releasing the permit after the fetch and before the child crawls.</summary>
    [Test]
    public static async Task HoldAndWaitFixed()
    {
        var slots = new Semaphore(FetchSlots, "fetchSlots");
        var visited = new List<string>();

        async Task CrawlAsync(string url)
        {
            string[] links;
            await using (await slots.HoldAsync())
            {
                links = await FetchAsync(url, visited);
            }

            var children = new Task[links.Length];
            for (var i = 0; i < links.Length; i++)
            {
                children[i] = CrawlAsync(links[i]);
            }

            await Task.WhenAll(children);
        }

        await CrawlAsync("/");

        Check(slots, visited);
    }

    private static async Task<string[]> FetchAsync(string url, List<string> visited)
    {
        await Task.Yield();
        visited.Add(url);
        return url switch
        {
            "/" => ["/a", "/b"],
            "/a" => ["/a/1"],
            _ => [],
        };
    }

    private static void Check(Semaphore slots, List<string> visited)
    {
        Specification.Assert(visited.Count == 4, "Crawled {0} of 4 pages.", visited.Count);
        Specification.Assert(slots.Value == FetchSlots, "'{0}' has {1} of {2} permits free at the end.", slots.Name, slots.Value, FetchSlots);
    }
}
