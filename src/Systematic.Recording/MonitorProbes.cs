using System.ComponentModel;
using Microsoft.Coyote.Runtime;
using ControlledMonitor = Microsoft.Coyote.Rewriting.Types.Threading.Monitor;

namespace Systematic.Recording;

/// <summary>
/// Recording stand-ins for Coyote's controlled <see cref="System.Threading.Monitor"/> (the <c>lock</c> statement).
/// Monitors are re-entrant for the task that holds them. <c>TryEnter</c> with a timeout may time out, as a recorded
/// choice, whenever it would block (Coyote 1.7.11 alone always waits and succeeds).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class MonitorProbes
{
    /// <summary>Called after <c>new object()</c> or <c>new Lock()</c>: where a possible lock object was made, and what it is stored into.</summary>
    public static void Created(object instance, string site, string? hint) => Recorder.Live?.Resources.NoteCreation(instance, site, hint);

    /// <summary>Enters the monitor.</summary>
    public static void Enter(object obj, string site, string? hint)
    {
        var lockTaken = false;
        Enter(obj, ref lockTaken, site, hint);
    }

    /// <summary>Enters the monitor.</summary>
    public static void Enter(object obj, ref bool lockTaken, string site, string? hint)
    {
        if (Recorder.Live is not { } session)
        {
            ControlledMonitor.Enter(obj, ref lockTaken);
            return;
        }

        var (resource, task) = Begin(session, obj, site, hint);
        ControlledMonitor.Enter(obj, ref lockTaken);
        Recorder.Live?.Emit(EventKind.Acquire, task, resource.Id, site, 0);
    }

    /// <summary>Tries to enter the monitor at once.</summary>
    public static bool TryEnter(object obj, string site, string? hint)
    {
        var lockTaken = false;
        TryEnter(obj, 0, ref lockTaken, site, hint);
        return lockTaken;
    }

    /// <summary>Tries to enter the monitor at once.</summary>
    public static void TryEnter(object obj, ref bool lockTaken, string site, string? hint) =>
        TryEnter(obj, 0, ref lockTaken, site, hint);

    /// <summary>Tries to enter the monitor within a timeout.</summary>
    public static bool TryEnter(object obj, int millisecondsTimeout, string site, string? hint)
    {
        var lockTaken = false;
        TryEnter(obj, millisecondsTimeout, ref lockTaken, site, hint);
        return lockTaken;
    }

    /// <summary>Tries to enter the monitor within a timeout.</summary>
    public static bool TryEnter(object obj, TimeSpan timeout, string site, string? hint) =>
        TryEnter(obj, (int)timeout.TotalMilliseconds, site, hint);

    /// <summary>Tries to enter the monitor within a timeout.</summary>
    public static void TryEnter(object obj, TimeSpan timeout, ref bool lockTaken, string site, string? hint) =>
        TryEnter(obj, (int)timeout.TotalMilliseconds, ref lockTaken, site, hint);

    /// <summary>Tries to enter the monitor within a timeout.</summary>
    public static void TryEnter(object obj, int millisecondsTimeout, ref bool lockTaken, string site, string? hint)
    {
        if (Recorder.Live is not { } session)
        {
            ControlledMonitor.TryEnter(obj, millisecondsTimeout, ref lockTaken);
            return;
        }

        var (resource, task) = Begin(session, obj, site, hint);
        while (HeldByOther(session, resource.Id, task))
        {
            if (millisecondsTimeout == 0 || (millisecondsTimeout != Timeout.Infinite && session.Choices is { } choices && choices.NextBoolean()))
            {
                Recorder.Live?.Emit(EventKind.TimedOut, task, resource.Id, site, 0);
                return;
            }

            // Deprioritize the waiter so that unfair strategies do not starve the task that would release.
            SchedulingPoint.Yield();
        }

        ControlledMonitor.Enter(obj, ref lockTaken);
        Recorder.Live?.Emit(EventKind.Acquire, task, resource.Id, site, 0);
    }

    /// <summary>Exits the monitor.</summary>
    public static void Exit(object obj, string site)
    {
        if (Recorder.Live is { } session && session.Resources.TryGet(obj, out var held) && !ControlledMonitor.IsEntered(obj))
        {
            // Exiting a lock this task does not hold (after a TryEnter that timed out, say): an over-release, named as such.
            session.Emit(EventKind.OverRelease, Recorder.CurrentTask, held.Id, site, 1, 1);
            Recorder.Fail(new DetectedFailure(FailureKind.OverRelease, [held.Id], [Recorder.CurrentTask], AsyncProbes.Site(site)), $"'{held.Name}' exited at {SourceSite.ShortOf(AsyncProbes.Site(site))} by a task that does not hold it.");
        }

        ControlledMonitor.Exit(obj);
        if (Recorder.Live is { } after && after.Resources.TryGet(obj, out var resource))
        {
            var task = Recorder.CurrentTask;
            var stillHeld = after.State.Resources.TryGetValue(resource.Id, out var state) && state.Holders.GetValueOrDefault(after.Log.Logical(task)) > 1;
            after.Emit(EventKind.Release, task, resource.Id, site, stillHeld ? 0 : 1);
        }
    }

    /// <summary>Releases the monitor, waits for a pulse and takes it back.</summary>
    public static bool Wait(object obj, string site) => Wait(obj, Timeout.Infinite, site);

    /// <summary>Releases the monitor, waits for a pulse at most a timeout, and takes it back.</summary>
    public static bool Wait(object obj, TimeSpan timeout, string site) => Wait(obj, (int)timeout.TotalMilliseconds, site);

    /// <summary>Releases the monitor, waits for a pulse at most a timeout, and takes it back.</summary>
    public static bool Wait(object obj, int millisecondsTimeout, string site)
    {
        var session = Recorder.Live;
        var task = Recorder.CurrentTask;
        ResourceInfo? resource = null;
        if (session is not null && session.Resources.TryGet(obj, out var info))
        {
            resource = info;
            session.Emit(EventKind.Release, task, info.Id, site, 1);
            session.Emit(EventKind.WaitForPulse, task, info.Id, site, 1);
        }

        var result = millisecondsTimeout == Timeout.Infinite ? ControlledMonitor.Wait(obj) : ControlledMonitor.Wait(obj, millisecondsTimeout);
        if (resource is not null && Recorder.Live is { } after)
        {
            if (!result)
            {
                after.Emit(EventKind.TimedOut, task, resource.Id, site, 0);
            }

            after.Emit(EventKind.Acquire, task, resource.Id, site, 0);
        }

        return result;
    }

    /// <summary>Wakes the longest-waiting task in <c>Monitor.Wait</c> on the monitor, if any.</summary>
    public static void Pulse(object obj, string site)
    {
        RecordPulse(obj, site, all: false);
        ControlledMonitor.Pulse(obj);
    }

    /// <summary>Wakes every task in <c>Monitor.Wait</c> on the monitor.</summary>
    public static void PulseAll(object obj, string site)
    {
        RecordPulse(obj, site, all: true);
        ControlledMonitor.PulseAll(obj);
    }

    private static void RecordPulse(object obj, string site, bool all)
    {
        if (Recorder.Live is not { } session)
        {
            return;
        }

        var resource = session.Resources.TryGet(obj, out var info) ? info : session.Resources.Observe(obj, ResourceKind.Monitor, site, null, 1, 1);
        var waiters = session.State.PulseWaiters(resource.Id);
        session.Emit(all ? EventKind.PulseAll : EventKind.Pulse, Recorder.CurrentTask, resource.Id, site, -1, 1, (all ? waiters : waiters.Take(1)).ToArray());
    }

    private static (ResourceInfo Resource, int Task) Begin(Session session, object obj, string site, string? hint)
    {
        var resource = session.Resources.TryGet(obj, out var info) ? info : session.Resources.Observe(obj, ResourceKind.Monitor, site, hint, 1, 1);
        var task = Recorder.CurrentTask;

        // Always a wait first: Coyote may schedule other tasks inside Enter before it takes the lock, so whether this
        // call blocks is known only once it returns (the Acquire right after an unblocked wait is not shown in timelines).
        session.Emit(EventKind.Wait, task, resource.Id, site, HeldByOther(session, resource.Id, task) ? 0 : 1);
        return (resource, task);
    }

    private static bool HeldByOther(Session session, int resource, int task)
    {
        if (!session.State.Resources.TryGetValue(resource, out var state))
        {
            return false;
        }

        // On every lock enter: no LINQ, and the owner's logical task looked up once.
        var owner = session.Log.Logical(task);
        foreach (var (holder, permits) in state.Holders)
        {
            if (permits > 0 && holder != owner)
            {
                return true;
            }
        }

        return false;
    }
}
