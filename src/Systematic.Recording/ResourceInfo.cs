namespace Systematic.Recording;

/// <summary>What kind of synchronization object a resource is.</summary>
public enum ResourceKind
{
    /// <summary>A <see cref="SemaphoreSlim"/>, or a primitive built on one.</summary>
    Semaphore,

    /// <summary>An object used with <c>lock</c>/<see cref="System.Threading.Monitor"/> (re-entrant).</summary>
    Monitor,
}

/// <summary>A resource seen during an iteration.</summary>
public sealed record ResourceInfo(int Id, ResourceKind Kind, string Name, SourceSite? Site, int Initial, int Max)
{
    /// <summary>Gets its rank among the resources made at its site in this iteration, from 1: with <see cref="Site"/>, its identity across iterations.</summary>
    public int Ordinal { get; init; }

    /// <summary>Gets its identity across iterations: its site and ordinal there.</summary>
    public string Key => $"{this.Site?.Key}#{this.Ordinal}";

    /// <summary>Gets, for a semaphore its call sites show is a signal, the methods that release it and never acquire it; null otherwise.</summary>
    public IReadOnlyList<string>? Releasers { get; init; }

    /// <summary>Gets the most free permits a correct program can have: the explicit maximum, else the initial count when positive.</summary>
    public int Limit => this.Max != int.MaxValue ? this.Max : this.Initial > 0 ? this.Initial : int.MaxValue;
}

/// <summary>A task (a logical flow of control) seen during an iteration.</summary>
/// <param name="Id">Id, from 1; 1 is the test itself.</param>
/// <param name="Entry">Entry method (Type.Method).</param>
/// <param name="Site">Where it was started, or null.</param>
/// <param name="Parent">Task that started it, or 0.</param>
/// <param name="Inline">True when its caller awaited it at once: it is part of the caller's flow.</param>
public sealed record TaskInfo(int Id, string Entry, SourceSite? Site, int Parent, bool Inline)
{
    /// <summary>Gets a value indicating whether this "task" is the one a <see cref="TaskCompletionSource"/> hands out: it runs no code and ends when the source is completed.</summary>
    public bool Promise { get; init; }

    /// <summary>Gets, for a task whose body ended by throwing, the exception's type and where it was thrown; null for one that returned.</summary>
    public TaskFault? EndedBy { get; init; }
}

/// <summary>How a task's body ended by throwing: the exception's type name and the innermost frame with a source line.</summary>
/// <param name="Exception">The exception's type, e.g. <c>OperationCanceledException</c>.</param>
/// <param name="ThrownAt">The innermost frame of its stack with a source file, or null.</param>
public sealed record TaskFault(string Exception, SourceSite? ThrownAt)
{
    /// <summary>Gets "an OperationCanceledException thrown at Throttle.cs:27", or without the place when unknown.</summary>
    public override string ToString() =>
        $"{("AEIOU".Contains(this.Exception[0], StringComparison.Ordinal) ? "an" : "a")} {this.Exception}{(this.ThrownAt is { } at ? $" thrown at {at.Short}" : "")}";
}

/// <summary>A lock order: <paramref name="Acquired"/> taken by <paramref name="Task"/> while it held <paramref name="Held"/> (and the other locks in <paramref name="Others"/>).</summary>
public sealed record LockOrder(int Held, int Acquired, SourceSite? HeldSite, SourceSite? AcquireSite, int Task, IReadOnlyList<int> Others)
{
    /// <summary>Gets whether a resource is a lock for lock-order purposes: a monitor, or a semaphore with a maximum of one permit.</summary>
    public static bool IsLock(ResourceInfo resource) => resource.Kind == ResourceKind.Monitor || resource.Max == 1;
}
