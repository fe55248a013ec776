using System.ComponentModel;
using System.Reflection;
using Microsoft.Coyote.Runtime.CompilerServices;
using ConfiguredTaskAwaitable = Microsoft.Coyote.Rewriting.Types.Runtime.CompilerServices.ConfiguredTaskAwaitable;
using ControlledTask = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task;

namespace Systematic.Recording;

/// <summary>
/// Recording stand-ins for Coyote's controlled <see cref="Task"/> entry points: <c>Task.Run</c> starts a task of its
/// own, awaits and joins record who waits for whom.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TaskProbes
{
    /// <summary>Runs an action as a new task.</summary>
    public static Task Run(Action action, string site) => Run(action, CancellationToken.None, site);

    /// <summary>Runs an action as a new task.</summary>
    public static Task Run(Action action, CancellationToken cancellationToken, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTask.Run(action, cancellationToken);
        }

        var info = session.Tasks.Start(EntryName(action), site, false);
        var task = ControlledTask.Run(() => RunAs(info.Id, action), cancellationToken);
        session.Tasks.Bind(task, info.Id);
        return task;
    }

    /// <summary>Runs a function as a new task.</summary>
    public static Task<TResult> Run<TResult>(Func<TResult> function, string site) => Run(function, CancellationToken.None, site);

    /// <summary>Runs a function as a new task.</summary>
    public static Task<TResult> Run<TResult>(Func<TResult> function, CancellationToken cancellationToken, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTask.Run(function, cancellationToken);
        }

        var info = session.Tasks.Start(EntryName(function), site, false);
        var task = ControlledTask.Run(() => RunAs(info.Id, function), cancellationToken);
        session.Tasks.Bind(task, info.Id);
        return task;
    }

    /// <summary>Runs an asynchronous function as a new task.</summary>
    public static Task Run(Func<Task> function, string site) => Run(function, CancellationToken.None, site);

    /// <summary>Runs an asynchronous function as a new task.</summary>
    public static Task Run(Func<Task> function, CancellationToken cancellationToken, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTask.Run(function, cancellationToken);
        }

        var info = session.Tasks.Start(EntryName(function), site, false);
        var task = ControlledTask.Run(() => Forward(info.Id, function, site), cancellationToken);
        session.Tasks.Bind(task, info.Id);
        return task;
    }

    /// <summary>Runs an asynchronous function as a new task.</summary>
    public static Task<TResult> Run<TResult>(Func<Task<TResult>> function, string site) => Run(function, CancellationToken.None, site);

    /// <summary>Runs an asynchronous function as a new task.</summary>
    public static Task<TResult> Run<TResult>(Func<Task<TResult>> function, CancellationToken cancellationToken, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTask.Run(function, cancellationToken);
        }

        var info = session.Tasks.Start(EntryName(function), site, false);
        var task = ControlledTask.Run(() => Forward(info.Id, function, site), cancellationToken);
        session.Tasks.Bind(task, info.Id);
        return task;
    }

    /// <summary>Creates a task that finishes when all of <paramref name="tasks"/> have.</summary>
    public static Task WhenAll(Task[] tasks, string site)
    {
        var all = ControlledTask.WhenAll(tasks);
        Recorder.Live?.Tasks.Join(all, tasks);
        return all;
    }

    /// <summary>Creates a task that finishes when all of <paramref name="tasks"/> have.</summary>
    public static Task WhenAll(IEnumerable<Task> tasks, string site) => WhenAll(tasks.ToArray(), site);

    /// <summary>Creates a task that finishes when all of <paramref name="tasks"/> have.</summary>
    public static Task<TResult[]> WhenAll<TResult>(Task<TResult>[] tasks, string site)
    {
        var all = ControlledTask.WhenAll(tasks);
        Recorder.Live?.Tasks.Join(all, tasks);
        return all;
    }

    /// <summary>Creates a task that finishes when all of <paramref name="tasks"/> have.</summary>
    public static Task<TResult[]> WhenAll<TResult>(IEnumerable<Task<TResult>> tasks, string site) => WhenAll(tasks.ToArray(), site);

    /// <summary>Creates a task that finishes when any of <paramref name="tasks"/> has (a deadlock blocks it on all of them).</summary>
    public static Task<Task> WhenAny(Task[] tasks, string site)
    {
        var any = ControlledTask.WhenAny(tasks);
        Recorder.Live?.Tasks.Join(any, tasks);
        return any;
    }

    /// <summary>Creates a task that finishes when any of <paramref name="tasks"/> has.</summary>
    public static Task<Task> WhenAny(IEnumerable<Task> tasks, string site) => WhenAny(tasks.ToArray(), site);

    /// <summary>Creates a task that finishes when any of <paramref name="tasks"/> has.</summary>
    public static Task<Task<TResult>> WhenAny<TResult>(Task<TResult>[] tasks, string site)
    {
        var any = ControlledTask.WhenAny(tasks);
        Recorder.Live?.Tasks.Join(any, tasks);
        return any;
    }

    /// <summary>Blocks until all of <paramref name="tasks"/> finish.</summary>
    public static void WaitAll(Task[] tasks, string site)
    {
        if (Recorder.Live is { } session && tasks.Any(t => !t.IsCompleted))
        {
            session.Emit(EventKind.Await, Recorder.CurrentTask, 0, site, awaited: tasks.SelectMany(t => session.Tasks.Targets(t)).ToArray());
        }

        ControlledTask.WaitAll(tasks);
    }

    /// <summary>Blocks until <paramref name="task"/> finishes.</summary>
    public static void Wait(Task task, string site, string? hint)
    {
        Awaiting(task, site, hint);
        ControlledTask.Wait(task);
    }

    /// <summary>Gets an awaiter for <paramref name="task"/>.</summary>
    public static TaskAwaiter GetAwaiter(Task task, string site, string? hint)
    {
        Awaiting(task, site, hint);
        return ControlledTask.GetAwaiter(task);
    }

    /// <summary>Gets an awaiter for <paramref name="task"/>.</summary>
    public static TaskAwaiter<TResult> GetAwaiter<TResult>(Task<TResult> task, string site, string? hint)
    {
        Awaiting(task, site, hint);
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task<TResult>.GetAwaiter(task);
    }

    /// <summary>Configures an await of <paramref name="task"/>.</summary>
    public static ConfiguredTaskAwaitable ConfigureAwait(Task task, bool continueOnCapturedContext, string site, string? hint)
    {
        Awaiting(task, site, hint);
        return ControlledTask.ConfigureAwait(task, continueOnCapturedContext);
    }

    /// <summary>Configures an await of <paramref name="task"/>.</summary>
    public static Microsoft.Coyote.Rewriting.Types.Runtime.CompilerServices.ConfiguredTaskAwaitable<TResult> ConfigureAwait<TResult>(Task<TResult> task, bool continueOnCapturedContext, string site, string? hint)
    {
        Awaiting(task, site, hint);
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task<TResult>.ConfigureAwait(task, continueOnCapturedContext);
    }

    /// <summary>Blocks until <paramref name="task"/> finishes and returns its result.</summary>
    public static TResult get_Result<TResult>(Task<TResult> task, string site, string? hint)
    {
        Awaiting(task, site, hint);
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task<TResult>.get_Result(task);
    }

    /// <summary>Gets the name of the method a delegate runs, seen through delegates that wrap delegates (<c>new ThreadStart(action)</c>).</summary>
    internal static string EntryName(Delegate body)
    {
        while (body.Target is Delegate inner && body.Method.Name == "Invoke")
        {
            body = inner;
        }

        return EntryName(body.Method);
    }

    /// <summary>A type's name without its generic arity (<c>AsyncLock</c>, <c>Queue</c> for <c>Queue`1</c>).</summary>
    internal static string TypeName(Type type)
    {
        var tick = type.Name.IndexOf('`', StringComparison.Ordinal);
        return tick > 0 ? type.Name[..tick] : type.Name;
    }

    internal static string EntryName(MethodInfo method)
    {
        var type = method.DeclaringType;
        var name = method.Name;
        if (name.StartsWith('<'))
        {
            // A lambda: <Outer>b__0_1 declared in a closure class nested in the real type.
            var end = name.IndexOf('>', StringComparison.Ordinal);
            var outer = end > 1 ? name[1..end] : "lambda";
            while (type is not null && type.Name.StartsWith('<'))
            {
                type = type.DeclaringType;
            }

            return $"{type?.Name ?? "?"}.{outer}.lambda";
        }

        return $"{type?.Name ?? "?"}.{name}";
    }

    private static T Forward<T>(int id, Func<T> function, string site)
        where T : Task
    {
        var previous = Recorder.SetCurrentTask(id);
        try
        {
            var inner = function();
            Settle(id, inner, site);
            return inner;
        }
        finally
        {
            Recorder.RestoreFlow(previous);
        }
    }

    /// <summary>Runs a synchronous body as task <paramref name="id"/>, which ends when the body returns or throws.</summary>
    internal static void RunAs(int id, Action body)
    {
        var previous = Recorder.SetCurrentTask(id);
        try
        {
            body();
        }
        finally
        {
            Recorder.Live?.Tasks.End(id);
            Recorder.RestoreFlow(previous);
        }
    }

    /// <summary>Runs a synchronous body as task <paramref name="id"/>, which ends when the body returns or throws.</summary>
    internal static T RunAs<T>(int id, Func<T> body)
    {
        var previous = Recorder.SetCurrentTask(id);
        try
        {
            return body();
        }
        finally
        {
            Recorder.Live?.Tasks.End(id);
            Recorder.RestoreFlow(previous);
        }
    }

    /// <summary>Records that task <paramref name="id"/>, whose body returned <paramref name="inner"/>, lives on until it finishes.</summary>
    internal static void Settle(int id, Task inner, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return;
        }

        session.Tasks.Adopt(id, inner);
        if (inner.IsCompleted)
        {
            session.Tasks.End(id);
        }
        else
        {
            // The body's task waits for the task it returned (Task.Run unwraps it; StartNew's caller awaits it).
            session.Emit(EventKind.Await, id, 0, site, awaited: session.Tasks.Targets(inner));
        }
    }

    /// <summary>Records that the current task awaits <paramref name="task"/> (nothing when it is complete, or null: nothing to wait for).</summary>
    internal static void Awaiting(Task? task, string site, string? hint = null)
    {
        if (task is null || task.IsCompleted || Recorder.Live is not { } session)
        {
            return;
        }

        if (session.Tasks.IsInline(task))
        {
            // The caller awaits an async call that ran as part of its own task: what that call waits for is already recorded.
            return;
        }

        var current = Recorder.CurrentTask;
        if (!session.Tasks.IsKnown(task) && session.State.Tasks.TryGetValue(current, out var state) && state.Blocked is WaitingForResource)
        {
            // Awaiting the task of a semaphore or lock wait that was already recorded as such (a primitive's own promise).
            return;
        }

        session.Emit(EventKind.Await, current, 0, site, awaited: session.Tasks.Targets(task, hint));
    }
}
