using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using Systematic;

[assembly: SynchronizationPrimitive(typeof(Booking.GateLock), Acquire = ["AcquireAsync"], Release = ["Dispose"])]

namespace Booking.Tests;

/// <summary>A declared lock released by disposing what its acquire returned.</summary>
public static class CounterTests
{
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task CrossingMovesBuggy()
    {
        var counters = new Counters();

        await Task.WhenAll(Task.Run(counters.LeftToRightAsync), Task.Run(counters.RightToLeftAsync));
    }

    [Test]
    public static async Task CrossingMovesFixed()
    {
        var counters = new Counters();

        await Task.WhenAll(Task.Run(counters.LeftToRightAsync), Task.Run(counters.RightToLeftInOrderAsync));

        Specification.Assert(counters.Left == 10 && counters.Right == 10, "Both moves should cancel out.");
    }
}
