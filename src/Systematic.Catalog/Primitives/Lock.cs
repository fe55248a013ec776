using System.Diagnostics;

namespace Systematic.Catalog.Primitives;

/// <summary>An asyncio-style, non-reentrant mutual-exclusion lock: taking it twice in one flow waits for ever.</summary>
[StackTraceHidden]
public sealed class Lock : Semaphore
{
    /// <summary>Creates an unlocked lock.</summary>
    public Lock(string? name = null)
        : base(1, 1, name)
    {
    }

    /// <summary>Unlocks; throws when the lock is not held (Python raises <c>RuntimeError</c>).</summary>
    public override void Release()
    {
        if (!this.Locked)
        {
            throw new InvalidOperationException($"Lock '{this.Name}' released while unlocked.");
        }

        base.Release();
    }
}
