using Microsoft.Coyote.SystematicTesting;

namespace Samples.Misbehaving;

/// <summary>Tests that misbehave in the ways that take test runners down. Each must be reported as a failure of that test only.</summary>
public static class MisbehavingTests
{
    private static int spins;

    /// <summary>Spins for ever without a scheduling point: Coyote cannot preempt it, only a watchdog can stop it.</summary>
    [Test]
    public static void SpinsWithoutSchedulingPoint()
    {
        var turns = 0L;
        while (turns >= 0)
        {
            turns = (turns + 1) % 1000;
        }
    }

    /// <summary>Spins for ever through controlled operations: every iteration runs into the scheduling-step bound.</summary>
    [Test]
    public static void SpinsThroughControlledCalls()
    {
        while (Volatile.Read(ref spins) >= 0)
        {
            Interlocked.Increment(ref spins);
            Interlocked.Decrement(ref spins);
        }
    }

    /// <summary>Blocks on a primitive Coyote does not control and nobody sets.</summary>
    [Test]
    public static void BlocksOnUncontrolledEvent()
    {
        using var never = new ManualResetEventSlim(false);
        never.Wait();
    }

    /// <summary>Throws from a finalizer, which ends the process.</summary>
    [Test]
    public static void ThrowsFromFinalizer()
    {
        Allocate();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>Calls Environment.Exit in the middle of an iteration.</summary>
    [Test]
    public static void CallsEnvironmentExit() => Environment.Exit(3);

    /// <summary>Recurses until the stack overflows.</summary>
    [Test]
    public static void OverflowsTheStack() => Recurse(0);

    /// <summary>Throws an exception whose message is markup, quotes, control characters and a path.</summary>
    [Test]
    public static void ThrowsHostileMessage() =>
        throw new InvalidOperationException("<script>alert(1)</script> \"quoted\" | pipe `tick` \u0007bell\nsecond line ../../../etc/passwd " + new string('x', 5000));

    /// <summary>A well-behaved test that must still run and pass after the others.</summary>
    [Test]
    public static async Task PassesAfterTheOthers()
    {
        var gate = new SemaphoreSlim(1, 1);
        await gate.WaitAsync();
        gate.Release();
    }

    private static void Allocate() => _ = new ThrowingFinalizer();

    private static int Recurse(int depth) => Recurse(depth + 1) + 1;

    private sealed class ThrowingFinalizer
    {
        ~ThrowingFinalizer() => throw new InvalidOperationException("thrown from a finalizer");
    }
}
