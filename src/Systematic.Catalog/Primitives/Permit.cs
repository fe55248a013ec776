using System.Diagnostics;

namespace Systematic.Catalog.Primitives;

/// <summary>A held permit: disposing it releases the semaphore once (the <c>async with</c> exit).</summary>
[StackTraceHidden]
public sealed class Permit : IAsyncDisposable, IDisposable
{
    private Semaphore? owner;

    internal Permit(Semaphore owner) => this.owner = owner;

    /// <summary>Releases the permit; later calls do nothing.</summary>
    public void Dispose()
    {
        var held = this.owner;
        this.owner = null;
        held?.Release();
    }

    /// <summary>Releases the permit; later calls do nothing.</summary>
    public ValueTask DisposeAsync()
    {
        this.Dispose();
        return ValueTask.CompletedTask;
    }
}
