namespace Systematic;

/// <summary>The kinds of failure Systematic tells apart, computed from what happened during a schedule.</summary>
public enum FailureKind
{
    /// <summary>No failure.</summary>
    None = 0,

    /// <summary>A permit was taken and never given back.</summary>
    Leak,

    /// <summary>A cycle of two or more resources in the wait-for graph.</summary>
    LockOrderDeadlock,

    /// <summary>A flow waits for a resource it already holds.</summary>
    SelfDeadlock,

    /// <summary>Every permit is held by tasks that wait on work that itself needs a permit.</summary>
    HoldAndWait,

    /// <summary>More releases than acquires, or a bounded semaphore overflowed.</summary>
    OverRelease,

    /// <summary>A failed specification or assertion.</summary>
    InvariantViolation,

    /// <summary>An exception escaped the test.</summary>
    UnhandledException,

    /// <summary>The step bound was hit, or the run made no progress within its budget.</summary>
    Hang,

    /// <summary>Tasks are blocked for ever, but on something other than a resource cycle (for example a task nobody completes).</summary>
    Deadlock,

    /// <summary>The test took its process down (exit, stack overflow, fatal error).</summary>
    Crashed,

    /// <summary>Locks were taken in orders that form a cycle across the explored schedules, though no explored schedule deadlocked.</summary>
    PotentialLockOrderDeadlock,

    /// <summary>Every blocked task waits in <c>Monitor.Wait</c> for a pulse no task still running can send (a wake-up was lost).</summary>
    LostWakeup,

    /// <summary>Coyote stopped the test because code it does not control took part (a thread it did not start, an object made before the iteration): a limit of the harness, not a verdict on the code.</summary>
    Uncontrolled,
}
