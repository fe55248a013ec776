using System.Diagnostics;
using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;

namespace Systematic.Catalog.Primitives;

/// <summary>
/// An asyncio-style counting semaphore built on <see cref="SemaphoreSlim"/>: <c>AcquireAsync</c>/<c>Release</c>,
/// and <c>await using (await sem.HoldAsync())</c> in the role of Python's <c>async with sem:</c>.
/// </summary>
/// <remarks>
/// Timed and cancellable acquires are modelled for systematic testing: when a permit is free they take it at once;
/// when they would have to wait, every scheduling step gives the scheduler the choice to let the timeout fire
/// (a recorded random choice, so a trace replays it), and a cancellation requested by another task is observed
/// at the next step. Coyote 1.7.11 itself treats a finite timeout as infinite and ignores the token.
/// </remarks>
[StackTraceHidden]
public class Semaphore
{
    private readonly SemaphoreSlim gate;
    private readonly Generator choices = Generator.Create();

    /// <summary>Creates a semaphore with <paramref name="value"/> permits.</summary>
    public Semaphore(int value = 1, string? name = null)
        : this(value, int.MaxValue, name)
    {
    }

    private protected Semaphore(int value, int maxValue, string? name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        this.gate = new SemaphoreSlim(value, maxValue);
        this.Name = name ?? this.GetType().Name;
        ResourceName.Set(this.gate, this.Name);
    }

    /// <summary>Gets the name reports use for this semaphore.</summary>
    public string Name { get; }

    /// <summary>Gets the number of free permits.</summary>
    public int Value => this.gate.CurrentCount;

    /// <summary>Gets a value indicating whether no permit is free (Python's <c>locked()</c>).</summary>
    public bool Locked => this.gate.CurrentCount == 0;

    /// <summary>Waits for a permit and takes it.</summary>
    public Task AcquireAsync() => this.gate.WaitAsync();

    /// <summary>Waits at most <paramref name="timeout"/> for a permit; returns whether it was taken.</summary>
    public async Task<bool> AcquireAsync(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be non-negative or Timeout.InfiniteTimeSpan.");
        }

        if (await this.gate.WaitAsync(0))
        {
            return true;
        }

        if (timeout == TimeSpan.Zero)
        {
            return false;
        }

        while (true)
        {
            // Would block: the timeout may fire at any step while we wait.
            if (timeout != Timeout.InfiniteTimeSpan && this.choices.NextBoolean())
            {
                return false;
            }

            // A polling wait: tell the scheduler to favour other tasks, so unfair strategies do not starve the holder.
            SchedulingPoint.Yield();
            await Task.Yield();
            if (await this.gate.WaitAsync(0))
            {
                return true;
            }
        }
    }

    /// <summary>Waits for a permit until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task AcquireAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (!await this.gate.WaitAsync(0, CancellationToken.None))
        {
            SchedulingPoint.Yield();
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Gives a permit back.</summary>
    public virtual void Release() => this.gate.Release();

    /// <summary>Waits for a permit and returns a scope that gives it back when disposed.</summary>
    public async Task<Permit> HoldAsync()
    {
        await this.AcquireAsync();
        return new Permit(this);
    }
}
