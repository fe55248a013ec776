namespace Systematic;

/// <summary>
/// Declares a type of your own (or of a package Systematic does not know) a lock or semaphore, so that deadlocks, leaks and
/// re-entries through it are diagnosed as through <see cref="SemaphoreSlim"/>: its acquire methods wait for a permit (a
/// returned task that is not complete yet is a wait), its release methods give one back. Put it on the test assembly.
/// </summary>
/// <example><c>[assembly: SynchronizationPrimitive(typeof(AsyncGate), Acquire = ["EnterAsync"], Release = ["Exit"])]</c></example>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class SynchronizationPrimitiveAttribute(Type type) : Attribute
{
    /// <summary>Gets the primitive's type.</summary>
    public Type Type { get; } = type;

    /// <summary>Gets or sets the names of the methods that take a permit (every overload of each name).</summary>
    public string[] Acquire { get; init; } = [];

    /// <summary>Gets or sets the names of the methods that give one back; an integer first parameter is the number given back.</summary>
    public string[] Release { get; init; } = [];

    /// <summary>Gets or sets the permits of a new instance: 1 for a lock (the default), 0 to read a <c>CurrentCount</c> property at creation.</summary>
    public int Permits { get; init; } = 1;
}
