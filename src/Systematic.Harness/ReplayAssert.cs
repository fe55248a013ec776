namespace Systematic.Harness;

/// <summary>The failure of <see cref="ReplayAssert.Reproduces"/>: the recorded failure did not happen again.</summary>
public sealed class ReplayMismatchException(string message) : Exception(message);

/// <summary>
/// Replays a recorded failure in the calling process, from any test framework: put it in a test, run that test under
/// the debugger from the test explorer, and it stops at the failure (when a debugger is attached).
/// </summary>
public static class ReplayAssert
{
    /// <summary>Replays the failure folder (or its trace) and throws <see cref="ReplayMismatchException"/> unless the same failure happens again.</summary>
    public static void Reproduces(string failureFolder)
    {
        var result = Replayer.Replay(failureFolder, breakOnFailure: System.Diagnostics.Debugger.IsAttached);
        if (!result.Reproduced)
        {
            throw new ReplayMismatchException(result.Explanation);
        }
    }
}
