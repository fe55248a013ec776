using System.ComponentModel;
using System.Runtime.CompilerServices;
using ControlledTask = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task;

namespace Systematic.Recording;

/// <summary>
/// Stands in for <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> and the constructors that take a delay.
/// Coyote 1.7.11 leaves their timer to real time, so a timeout fires or not by the machine's speed and a trace does not
/// replay it. Under a test a delay up to <see cref="Horizon"/> becomes a timer task of its own that cancels the source
/// when the scheduler runs it: at any scheduling step after it is set, a recorded choice that replays. A longer delay is
/// taken as a guard against a hang (a test's <c>new CancellationTokenSource(TimeSpan.FromSeconds(30))</c>) and keeps its
/// real timer.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CancellationProbes
{
    /// <summary>The longest delay explored as a timeout that may fire at any step.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(1);

    // The timer a source has now: setting a new delay replaces it, as CancelAfter does.
    private static readonly ConditionalWeakTable<CancellationTokenSource, StrongBox<int>> Generations = [];

    /// <summary>Creates a source cancelled after a delay.</summary>
    public static CancellationTokenSource Create(TimeSpan delay, string site)
    {
        var source = new CancellationTokenSource();
        CancelAfter(source, delay, site);
        return source;
    }

    /// <summary>Creates a source cancelled after a delay in milliseconds.</summary>
    public static CancellationTokenSource Create(int millisecondsDelay, string site)
    {
        var source = new CancellationTokenSource();
        CancelAfter(source, millisecondsDelay, site);
        return source;
    }

    /// <summary>Cancels the source after a delay in milliseconds.</summary>
    public static void CancelAfter(CancellationTokenSource instance, int millisecondsDelay, string site)
    {
        if (millisecondsDelay < -1)
        {
            // As the original: an argument error.
            instance.CancelAfter(millisecondsDelay);
            return;
        }

        CancelAfter(instance, millisecondsDelay == -1 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(millisecondsDelay), site);
    }

    /// <summary>Cancels the source after a delay.</summary>
    public static void CancelAfter(CancellationTokenSource instance, TimeSpan delay, string site)
    {
        var generation = Generations.GetValue(instance, _ => new StrongBox<int>());
        var current = Interlocked.Increment(ref generation.Value);
        if (Recorder.Live is not { } session || delay == Timeout.InfiniteTimeSpan || delay < TimeSpan.Zero || delay > Horizon)
        {
            instance.CancelAfter(delay);
            return;
        }

        // A real timer set before is replaced by the controlled one.
        instance.CancelAfter(Timeout.InfiniteTimeSpan);
        var info = session.Tasks.Start($"timeout after {Describe(delay)}", site, false);
        var timer = ControlledTask.Run(() => TaskProbes.RunAs(info.Id, () => Fire(instance, generation, current)));
        session.Tasks.Bind(timer, info.Id);
    }

    private static void Fire(CancellationTokenSource source, StrongBox<int> generation, int expected)
    {
        if (Volatile.Read(ref generation.Value) != expected)
        {
            // Replaced by a later CancelAfter.
            return;
        }

        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed before it fired, as a real timer is stopped by Dispose.
        }
    }

    private static string Describe(TimeSpan delay) =>
        delay.TotalMilliseconds < 1000 ? $"{delay.TotalMilliseconds:0.###} ms" : $"{delay.TotalSeconds:0.###} s";
}
