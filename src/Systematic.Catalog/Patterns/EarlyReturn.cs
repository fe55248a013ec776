using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A cache lookup that returns early on a hit while it still holds the database permit.</summary>
[Pattern(
    "Release forgotten on an early return",
    Problem = "Every cache hit keeps a database permit for ever, so the lookups after it wait for ever.",
    Cause = "The release sits at the end of the method, and the early return for a cache hit leaves before reaching it.",
    Fix = "Hold the permit with await using (or release in a finally block), so the early return gives it back too.")]
public static class EarlyReturn
{
    private const int DbPermits = 1;

    /// <summary>Three lookups, two for the same user; the second one hits the cache and returns with the permit.</summary>
    [Test]
    [ExpectedFailure(FailureKind.Leak)]
    public static async Task EarlyReturnBuggy()
    {
        var database = new Semaphore(DbPermits, "database");
        var cache = new Dictionary<string, string>();

        var lookups = new[]
        {
            Task.Run(() => LoadBuggyAsync(database, cache, "user:1")),
            Task.Run(() => LoadBuggyAsync(database, cache, "user:2")),
            Task.Run(() => LoadBuggyAsync(database, cache, "user:1")),
        };
        var names = await Task.WhenAll(lookups);

        Check(database, cache, names);
    }

    /// <summary>The same lookups, with the permit held by await using.</summary>
    [Test]
    public static async Task EarlyReturnFixed()
    {
        var database = new Semaphore(DbPermits, "database");
        var cache = new Dictionary<string, string>();

        var lookups = new[]
        {
            Task.Run(() => LoadFixedAsync(database, cache, "user:1")),
            Task.Run(() => LoadFixedAsync(database, cache, "user:2")),
            Task.Run(() => LoadFixedAsync(database, cache, "user:1")),
        };
        var names = await Task.WhenAll(lookups);

        Check(database, cache, names);
    }

    private static async Task<string> LoadBuggyAsync(Semaphore database, Dictionary<string, string> cache, string key)
    {
        await database.AcquireAsync();
        if (cache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var name = await QueryAsync(key);
        cache[key] = name;
        database.Release();
        return name;
    }

    private static async Task<string> LoadFixedAsync(Semaphore database, Dictionary<string, string> cache, string key)
    {
        await using (await database.HoldAsync())
        {
            if (cache.TryGetValue(key, out var cached))
            {
                return cached;
            }

            var name = await QueryAsync(key);
            cache[key] = name;
            return name;
        }
    }

    private static async Task<string> QueryAsync(string key)
    {
        await Task.Yield();
        return "name of " + key;
    }

    private static void Check(Semaphore database, Dictionary<string, string> cache, string[] names)
    {
        Specification.Assert(names[0] == "name of user:1" && names[1] == "name of user:2" && names[2] == "name of user:1", "A lookup returned the wrong name.");
        Specification.Assert(cache.Count == 2, "Expected 2 cached users, found {0}.", cache.Count);
        Specification.Assert(database.Value == DbPermits, "'{0}' has {1} of {2} permits free at the end: a permit leaked.", database.Name, database.Value, DbPermits);
    }
}
