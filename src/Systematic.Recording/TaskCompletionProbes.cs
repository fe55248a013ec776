using System.ComponentModel;
using ControlledCompletion = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskCompletionSource;

namespace Systematic.Recording;

/// <summary>
/// Probes for <see cref="TaskCompletionSource"/>: where each was created and what it is stored into, and which task it
/// hands out, so that a task awaiting one is reported as awaiting "the TaskCompletionSource `ready` created at X",
/// never as awaiting an unknown task.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TaskCompletionProbes
{
    /// <summary>Called after a <see cref="TaskCompletionSource"/> or <see cref="TaskCompletionSource{TResult}"/> is constructed.</summary>
    public static void Created(object source, string site, string? hint) => Recorder.Live?.Tasks.NoteCompletionSource(source, site, hint);

    /// <summary>Gets the source's task.</summary>
    public static Task get_Task(TaskCompletionSource source, string site)
    {
        var task = ControlledCompletion.get_Task(source);
        Recorder.Live?.Tasks.NoteCompletionTask(task, source);
        return task;
    }

    /// <summary>Gets the source's task.</summary>
    public static Task<TResult> get_Task<TResult>(TaskCompletionSource<TResult> source, string site)
    {
        var task = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskCompletionSource<TResult>.get_Task(source);
        Recorder.Live?.Tasks.NoteCompletionTask(task, source);
        return task;
    }
}
