using System.Diagnostics;

namespace Systematic.Catalog.Primitives;

/// <summary>A semaphore that refuses to be released above its initial value (Python's <c>BoundedSemaphore</c>).</summary>
[StackTraceHidden]
public sealed class BoundedSemaphore : Semaphore
{
    /// <summary>Creates a bounded semaphore with <paramref name="value"/> permits, which is also its maximum.</summary>
    public BoundedSemaphore(int value = 1, string? name = null)
        : base(value, value, name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
        this.Bound = value;
    }

    /// <summary>Gets the maximum number of free permits.</summary>
    public int Bound { get; }

    /// <summary>Gives a permit back; throws when that would exceed <see cref="Bound"/>.</summary>
    public override void Release()
    {
        try
        {
            base.Release();
        }
        catch (SemaphoreFullException e)
        {
            throw new InvalidOperationException($"BoundedSemaphore '{this.Name}' released too many times.", e);
        }
    }
}
