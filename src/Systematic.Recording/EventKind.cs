namespace Systematic.Recording;

/// <summary>What a recorded event says happened.</summary>
public enum EventKind
{
    /// <summary>A task (an async method call, a Task.Run delegate, the test itself) started.</summary>
    TaskStart,

    /// <summary>A task finished.</summary>
    TaskEnd,

    /// <summary>A resource was created.</summary>
    Create,

    /// <summary>A task asked for a permit and had to wait for it.</summary>
    Wait,

    /// <summary>A task got a permit (at once, or handed over by a release).</summary>
    Acquire,

    /// <summary>A task gave a permit back.</summary>
    Release,

    /// <summary>A timed wait gave up.</summary>
    TimedOut,

    /// <summary>A cancellable wait was cancelled.</summary>
    Cancelled,

    /// <summary>A task awaited (or blocked on) other tasks that had not finished.</summary>
    Await,

    /// <summary>A release that would exceed the resource's limit.</summary>
    OverRelease,

    /// <summary>The resource is declared a signal or item count (<c>Signaling.Declare</c>), not a lock.</summary>
    Signaling,

    /// <summary>A task gave up a monitor in <c>Monitor.Wait</c> and waits for a pulse.</summary>
    WaitForPulse,

    /// <summary><c>Monitor.Pulse</c>: the event's targets are the waiting tasks it woke (none when nobody waited).</summary>
    Pulse,

    /// <summary><c>Monitor.PulseAll</c>: the event's targets are the waiting tasks it woke.</summary>
    PulseAll,
}
