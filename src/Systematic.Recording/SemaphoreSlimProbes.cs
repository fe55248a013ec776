using System.ComponentModel;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using ControlledSemaphore = Microsoft.Coyote.Rewriting.Types.Threading.SemaphoreSlim;

namespace Systematic.Recording;

/// <summary>
/// Recording stand-ins for Coyote's controlled <see cref="SemaphoreSlim"/> entry points. The instrumenter redirects each
/// call to <c>Microsoft.Coyote.Rewriting.Types.Threading.SemaphoreSlim</c> here, adding the call's source site.
/// Timed and cancellable waits that would block may time out or be cancelled at any scheduling step, as a recorded choice.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SemaphoreSlimProbes
{
    /// <summary>Creates a semaphore.</summary>
    public static SemaphoreSlim Create(int initialCount, string site, string? hint) =>
        Create(initialCount, int.MaxValue, site, hint);

    /// <summary>Creates a semaphore with a maximum.</summary>
    public static SemaphoreSlim Create(int initialCount, int maxCount, string site, string? hint)
    {
        var semaphore = ControlledSemaphore.Create(initialCount, maxCount);
        Recorder.Live?.Resources.Observe(semaphore, ResourceKind.Semaphore, site, hint, initialCount, maxCount);
        return semaphore;
    }

    /// <summary>Marks a semaphore just created as a signal (released by <paramref name="releasers"/>, which never acquire it), not a lock.</summary>
    public static void Signal(SemaphoreSlim instance, string releasers)
    {
        if (Recorder.Live is { } session && session.Resources.TryGet(instance, out var resource))
        {
            session.MarkSignal(resource, releasers.Split(", ", StringSplitOptions.RemoveEmptyEntries));
        }
    }

    /// <summary>Gets the free permits.</summary>
    public static int get_CurrentCount(SemaphoreSlim instance, string site) => ControlledSemaphore.get_CurrentCount(instance);

    /// <summary>Waits for a permit.</summary>
    public static Task WaitAsync(SemaphoreSlim instance, string site) =>
        Recorder.Live is { } session ? Enter(session, instance, site) : ControlledSemaphore.WaitAsync(instance);

    /// <summary>Waits for a permit until cancelled.</summary>
    public static Task WaitAsync(SemaphoreSlim instance, CancellationToken cancellationToken, string site) =>
        cancellationToken.CanBeCanceled ? WaitAsync(instance, Timeout.Infinite, cancellationToken, site) : WaitAsync(instance, site);

    /// <summary>Waits at most a timeout for a permit.</summary>
    public static Task<bool> WaitAsync(SemaphoreSlim instance, int millisecondsTimeout, string site) =>
        WaitAsync(instance, millisecondsTimeout, CancellationToken.None, site);

    /// <summary>Waits at most a timeout for a permit.</summary>
    public static Task<bool> WaitAsync(SemaphoreSlim instance, TimeSpan timeout, string site) =>
        WaitAsync(instance, ToMilliseconds(timeout), CancellationToken.None, site);

    /// <summary>Waits at most a timeout for a permit until cancelled.</summary>
    public static Task<bool> WaitAsync(SemaphoreSlim instance, TimeSpan timeout, CancellationToken cancellationToken, string site) =>
        WaitAsync(instance, ToMilliseconds(timeout), cancellationToken, site);

    /// <summary>Waits at most a timeout for a permit until cancelled.</summary>
    public static Task<bool> WaitAsync(SemaphoreSlim instance, int millisecondsTimeout, CancellationToken cancellationToken, string site)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

        if (Recorder.Live is not { } session)
        {
            return ControlledSemaphore.WaitAsync(instance, millisecondsTimeout, cancellationToken);
        }

        if (millisecondsTimeout == Timeout.Infinite && !cancellationToken.CanBeCanceled)
        {
            return Enter(session, instance, site);
        }

        try
        {
            return Task.FromResult(TimedWait(session, instance, millisecondsTimeout, cancellationToken, site));
        }
        catch (OperationCanceledException e)
        {
            return Task.FromCanceled<bool>(e.CancellationToken);
        }
    }

    /// <summary>Blocks until a permit is free.</summary>
    public static void Wait(SemaphoreSlim instance, string site)
    {
        if (Recorder.Live is not { } session)
        {
            ControlledSemaphore.Wait(instance);
            return;
        }

        var resource = Observe(session, instance);
        var task = Recorder.CurrentTask;

        // Coyote may schedule other tasks inside Wait before it takes the permit: record the wait first.
        session.Emit(EventKind.Wait, task, resource.Id, site, Count(instance));
        ControlledSemaphore.Wait(instance);
        if (Recorder.Live is { } after)
        {
            after.Emit(EventKind.Acquire, task, resource.Id, site, Count(instance));
        }
    }

    /// <summary>Blocks until a permit is free or the token is cancelled.</summary>
    public static void Wait(SemaphoreSlim instance, CancellationToken cancellationToken, string site)
    {
        if (cancellationToken.CanBeCanceled && Recorder.Live is { } session)
        {
            TimedWait(session, instance, Timeout.Infinite, cancellationToken, site);
            return;
        }

        Wait(instance, site);
    }

    /// <summary>Blocks at most a timeout until a permit is free.</summary>
    public static bool Wait(SemaphoreSlim instance, int millisecondsTimeout, string site) =>
        Wait(instance, millisecondsTimeout, CancellationToken.None, site);

    /// <summary>Blocks at most a timeout until a permit is free.</summary>
    public static bool Wait(SemaphoreSlim instance, TimeSpan timeout, string site) =>
        Wait(instance, ToMilliseconds(timeout), CancellationToken.None, site);

    /// <summary>Blocks at most a timeout until a permit is free or the token is cancelled.</summary>
    public static bool Wait(SemaphoreSlim instance, TimeSpan timeout, CancellationToken cancellationToken, string site) =>
        Wait(instance, ToMilliseconds(timeout), cancellationToken, site);

    /// <summary>Blocks at most a timeout until a permit is free or the token is cancelled.</summary>
    public static bool Wait(SemaphoreSlim instance, int millisecondsTimeout, CancellationToken cancellationToken, string site)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Recorder.Live is not { } session)
        {
            return ControlledSemaphore.Wait(instance, millisecondsTimeout, cancellationToken);
        }

        if (millisecondsTimeout == Timeout.Infinite && !cancellationToken.CanBeCanceled)
        {
            Wait(instance, site);
            return true;
        }

        return TimedWait(session, instance, millisecondsTimeout, cancellationToken, site);
    }

    /// <summary>Releases one permit.</summary>
    public static int Release(SemaphoreSlim instance, string site) => Release(instance, 1, site);

    /// <summary>Releases permits.</summary>
    public static int Release(SemaphoreSlim instance, int releaseCount, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledSemaphore.Release(instance, releaseCount);
        }

        var resource = Observe(session, instance);
        var task = Recorder.CurrentTask;
        var before = Count(instance);
        if ((long)before + releaseCount > resource.Limit)
        {
            session.Emit(EventKind.OverRelease, task, resource.Id, site, before, releaseCount);
            Recorder.Fail(new DetectedFailure(FailureKind.OverRelease, [resource.Id], [task], AsyncProbes.Site(site)), $"'{resource.Name}' released at {SourceSite.ShortOf(AsyncProbes.Site(site))} with {before} of {resource.Limit} permit(s) already free.");
        }

        var previous = ControlledSemaphore.Release(instance, releaseCount);
        if (Recorder.Live is not { } after)
        {
            return previous;
        }

        // A permit handed straight to an asynchronous waiter is recorded as that waiter's acquire when it runs again.
        after.Emit(EventKind.Release, task, resource.Id, site, Count(instance), releaseCount);
        return previous;
    }

    private static Task<bool> Enter(Session session, SemaphoreSlim instance, string site)
    {
        var resource = Observe(session, instance);
        var task = Recorder.CurrentTask;
        var pending = ControlledSemaphore.WaitAsync(instance, Timeout.Infinite, CancellationToken.None);
        if (pending.IsCompleted)
        {
            session.Emit(EventKind.Acquire, task, resource.Id, site, Count(instance));
        }
        else
        {
            session.Emit(EventKind.Wait, task, resource.Id, site, Count(instance));
            session.PendingAsyncWait(task, resource.Id, AsyncProbes.Site(site), pending);
        }

        return pending;
    }

    private static bool TimedWait(Session session, SemaphoreSlim instance, int millisecondsTimeout, CancellationToken cancellationToken, string site)
    {
        var resource = Observe(session, instance);
        var task = Recorder.CurrentTask;
        if (ControlledSemaphore.Wait(instance, 0))
        {
            session.Emit(EventKind.Acquire, task, resource.Id, site, Count(instance));
            return true;
        }

        if (millisecondsTimeout == 0)
        {
            return false;
        }

        session.Emit(EventKind.Wait, task, resource.Id, site, 0);
        while (true)
        {
            // At every step while it would block, the timeout may fire (a recorded choice) or a cancellation land.
            if (cancellationToken.IsCancellationRequested)
            {
                Recorder.Live?.Emit(EventKind.Cancelled, task, resource.Id, site, Count(instance));
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (millisecondsTimeout != Timeout.Infinite && session.Choices is { } choices && choices.NextBoolean())
            {
                Recorder.Live?.Emit(EventKind.TimedOut, task, resource.Id, site, Count(instance));
                return false;
            }

            // Deprioritize the waiter so that unfair strategies do not starve the task that would release.
            SchedulingPoint.Yield();
            if (ControlledSemaphore.Wait(instance, 0))
            {
                Recorder.Live?.Emit(EventKind.Acquire, task, resource.Id, site, Count(instance));
                return true;
            }
        }
    }

    private static ResourceInfo Observe(Session session, SemaphoreSlim instance) =>
        session.Resources.TryGet(instance, out var info)
            ? info
            : session.Resources.Observe(instance, ResourceKind.Semaphore, null, null, Count(instance), int.MaxValue);

    internal static int Count(SemaphoreSlim instance) => ControlledSemaphore.get_CurrentCount(instance);

    private static int ToMilliseconds(TimeSpan timeout)
    {
        var total = (long)timeout.TotalMilliseconds;
        ArgumentOutOfRangeException.ThrowIfLessThan(total, -1, nameof(timeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(total, int.MaxValue, nameof(timeout));
        return (int)total;
    }
}
