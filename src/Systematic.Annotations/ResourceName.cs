using System.Runtime.CompilerServices;

namespace Systematic;

/// <summary>Gives a synchronization object a name that Systematic's reports use instead of the field or local it was created into.</summary>
public static class ResourceName
{
    private static readonly ConditionalWeakTable<object, string> Names = new();

    /// <summary>Names <paramref name="resource"/> and returns it.</summary>
    public static T Set<T>(T resource, string name)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Names.AddOrUpdate(resource, name);
        return resource;
    }

    /// <summary>Returns the name given to <paramref name="resource"/>, if any.</summary>
    public static string? Get(object resource) =>
        Names.TryGetValue(resource, out var name) ? name : null;
}
