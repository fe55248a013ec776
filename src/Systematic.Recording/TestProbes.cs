using System.ComponentModel;
using ControlledTask = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task;

namespace Systematic.Recording;

/// <summary>Probes the instrumenter puts around each Coyote <c>[Test]</c> method: start a recording, check the end.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TestProbes
{
    /// <summary>Starts recording an iteration of <paramref name="test"/>.</summary>
    public static void Begin(string test) => Recorder.Begin(test);

    /// <summary>Checks the end-of-test invariants (placed where the test's body completes).</summary>
    public static void End() => Recorder.CheckEndOfTest();

    /// <summary>For a test that returns a task without being async: checks the invariants once that task completes.</summary>
    public static Task EndAfter(Task test)
    {
        if (Recorder.Live is null)
        {
            return test;
        }

        var check = ControlledTask.Run(() =>
        {
            try
            {
                ControlledTask.Wait(test);
            }
            catch (AggregateException)
            {
                return;
            }

            Recorder.CheckEndOfTest();
        });
        return ControlledTask.WhenAll([test, check]);
    }
}
