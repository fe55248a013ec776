using System.Runtime.CompilerServices;

namespace Systematic;

/// <summary>
/// Declares a semaphore a signal or an item count (a producer/consumer slot counter) rather than a lock: permits it
/// still lacks when a test ends are items in flight, not a leak, and it takes no part in lock orders.
/// </summary>
public static class Signaling
{
    private static readonly ConditionalWeakTable<object, object> Declared = new();

    /// <summary>Declares <paramref name="resource"/> a signal or item count and returns it.</summary>
    public static T Declare<T>(T resource)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(resource);
        Declared.AddOrUpdate(resource, resource);
        return resource;
    }

    /// <summary>Returns whether <paramref name="resource"/> was declared a signal or item count.</summary>
    public static bool IsDeclared(object resource) => Declared.TryGetValue(resource, out _);
}
