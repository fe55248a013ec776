using System.ComponentModel;
using System.Reflection;
using Microsoft.Coyote.Rewriting.Types.Runtime.CompilerServices;
using Microsoft.Coyote.Runtime.CompilerServices;
using ControlledValueTask = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.ValueTask;

namespace Systematic.Recording;

/// <summary>
/// Recording stand-ins for awaits of a <see cref="ValueTask"/>: when it wraps a task (as an async method's does), the
/// awaiting task waits for that task, exactly as when awaiting a <see cref="Task"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ValueTaskProbes
{
    /// <summary>Gets an awaiter for <paramref name="task"/>.</summary>
    public static ValueTaskAwaiter GetAwaiter(ref ValueTask task, string site, string? hint)
    {
        TaskProbes.Awaiting(Payload(task), site, hint);
        return ControlledValueTask.GetAwaiter(ref task);
    }

    /// <summary>Configures an await of <paramref name="task"/>.</summary>
    public static ConfiguredValueTaskAwaitable ConfigureAwait(ref ValueTask task, bool continueOnCapturedContext, string site, string? hint)
    {
        TaskProbes.Awaiting(Payload(task), site, hint);
        return ControlledValueTask.ConfigureAwait(ref task, continueOnCapturedContext);
    }

    /// <summary>Gets an awaiter for <paramref name="task"/>.</summary>
    public static ValueTaskAwaiter<TResult> GetAwaiter<TResult>(ref ValueTask<TResult> task, string site, string? hint)
    {
        TaskProbes.Awaiting(Payload(task), site, hint);
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.ValueTask<TResult>.GetAwaiter(ref task);
    }

    /// <summary>Configures an await of <paramref name="task"/>.</summary>
    public static ConfiguredValueTaskAwaitable<TResult> ConfigureAwait<TResult>(ref ValueTask<TResult> task, bool continueOnCapturedContext, string site, string? hint)
    {
        TaskProbes.Awaiting(Payload(task), site, hint);
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.ValueTask<TResult>.ConfigureAwait(ref task, continueOnCapturedContext);
    }

    /// <summary>Blocks until <paramref name="task"/> finishes and returns its result.</summary>
    public static TResult get_Result<TResult>(ref ValueTask<TResult> task, string site, string? hint)
    {
        TaskProbes.Awaiting(Payload(task), site, hint);
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.ValueTask<TResult>.get_Result(ref task);
    }

    /// <summary>The task a value task wraps, or null when it wraps none (completed at once, or an <c>IValueTaskSource</c>).</summary>
    internal static Task? Payload(ValueTask task) => task.IsCompleted ? null : Objects<ValueTask>.Field?.GetValue(task) as Task;

    /// <summary>The task a value task wraps, or null when it wraps none.</summary>
    internal static Task? Payload<TResult>(ValueTask<TResult> task) => task.IsCompleted ? null : Objects<ValueTask<TResult>>.Field?.GetValue(task) as Task;

    private static class Objects<T>
    {
        public static readonly FieldInfo? Field = typeof(T).GetField("_obj", BindingFlags.NonPublic | BindingFlags.Instance);
    }
}
