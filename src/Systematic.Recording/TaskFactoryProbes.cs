using System.ComponentModel;
using ControlledTaskFactory = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.TaskFactory;
using ControlledTaskFactoryOf = Microsoft.Coyote.Rewriting.Types.Threading.Tasks;

namespace Systematic.Recording;

/// <summary>
/// Recording stand-ins for Coyote's controlled <c>Task.Factory.StartNew</c>: the body becomes a task of its own, named
/// by its entry method, like <c>Task.Run</c>. An async body (<c>StartNew(async () => ...)</c>, a <c>Task&lt;Task&gt;</c>)
/// stays that task until the task it returns finishes.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TaskFactoryProbes
{
    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action action, string site) =>
        StartNew(factory, action, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action action, CancellationToken cancellationToken, string site) =>
        StartNew(factory, action, cancellationToken, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action action, TaskCreationOptions creationOptions, string site) =>
        StartNew(factory, action, CancellationToken.None, creationOptions, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action action, CancellationToken cancellationToken, TaskCreationOptions creationOptions, TaskScheduler scheduler, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTaskFactory.StartNew(factory, action, cancellationToken, creationOptions, scheduler);
        }

        var id = session.Tasks.Start(TaskProbes.EntryName(action), site, false).Id;
        var task = ControlledTaskFactory.StartNew(factory, () => TaskProbes.RunAs(id, action), cancellationToken, creationOptions, scheduler);
        session.Tasks.Bind(task, id);
        return task;
    }

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action<object?> action, object? state, string site) =>
        StartNew(factory, action, state, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action<object?> action, object? state, CancellationToken cancellationToken, string site) =>
        StartNew(factory, action, state, cancellationToken, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action<object?> action, object? state, TaskCreationOptions creationOptions, string site) =>
        StartNew(factory, action, state, CancellationToken.None, creationOptions, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task StartNew(TaskFactory factory, Action<object?> action, object? state, CancellationToken cancellationToken, TaskCreationOptions creationOptions, TaskScheduler scheduler, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTaskFactory.StartNew(factory, action!, state!, cancellationToken, creationOptions, scheduler);
        }

        var id = session.Tasks.Start(TaskProbes.EntryName(action), site, false).Id;
        var task = ControlledTaskFactory.StartNew(factory, s => TaskProbes.RunAs(id, () => action(s)), state!, cancellationToken, creationOptions, scheduler);
        session.Tasks.Bind(task, id);
        return task;
    }

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<TResult> function, string site) =>
        StartNew(factory, function, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<TResult> function, CancellationToken cancellationToken, string site) =>
        StartNew(factory, function, cancellationToken, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<TResult> function, TaskCreationOptions creationOptions, string site) =>
        StartNew(factory, function, CancellationToken.None, creationOptions, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<TResult> function, CancellationToken cancellationToken, TaskCreationOptions creationOptions, TaskScheduler scheduler, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTaskFactory.StartNew(factory, function, cancellationToken, creationOptions, scheduler);
        }

        var id = session.Tasks.Start(TaskProbes.EntryName(function), site, false).Id;
        var task = ControlledTaskFactory.StartNew(factory, () => Body(id, function, site), cancellationToken, creationOptions, scheduler);
        session.Tasks.Bind(task, id);
        return task;
    }

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<object?, TResult> function, object? state, string site) =>
        StartNew(factory, function, state, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<object?, TResult> function, object? state, CancellationToken cancellationToken, string site) =>
        StartNew(factory, function, state, cancellationToken, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<object?, TResult> function, object? state, TaskCreationOptions creationOptions, string site) =>
        StartNew(factory, function, state, CancellationToken.None, creationOptions, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task.</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory factory, Func<object?, TResult> function, object? state, CancellationToken cancellationToken, TaskCreationOptions creationOptions, TaskScheduler scheduler, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTaskFactory.StartNew(factory, function!, state!, cancellationToken, creationOptions, scheduler);
        }

        var id = session.Tasks.Start(TaskProbes.EntryName(function), site, false).Id;
        var task = ControlledTaskFactory.StartNew(factory, s => Body(id, () => function(s), site), state!, cancellationToken, creationOptions, scheduler);
        session.Tasks.Bind(task, id);
        return task;
    }

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<TResult> function, string site) =>
        StartNew(factory, function, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<TResult> function, CancellationToken cancellationToken, string site) =>
        StartNew(factory, function, cancellationToken, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<TResult> function, TaskCreationOptions creationOptions, string site) =>
        StartNew(factory, function, CancellationToken.None, creationOptions, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<TResult> function, CancellationToken cancellationToken, TaskCreationOptions creationOptions, TaskScheduler scheduler, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTaskFactoryOf.TaskFactory<TResult>.StartNew(factory, function, cancellationToken, creationOptions, scheduler);
        }

        var id = session.Tasks.Start(TaskProbes.EntryName(function), site, false).Id;
        var task = ControlledTaskFactoryOf.TaskFactory<TResult>.StartNew(factory, () => Body(id, function, site), cancellationToken, creationOptions, scheduler);
        session.Tasks.Bind(task, id);
        return task;
    }

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<object?, TResult> function, object? state, string site) =>
        StartNew(factory, function, state, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<object?, TResult> function, object? state, CancellationToken cancellationToken, string site) =>
        StartNew(factory, function, state, cancellationToken, TaskCreationOptions.None, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<object?, TResult> function, object? state, TaskCreationOptions creationOptions, string site) =>
        StartNew(factory, function, state, CancellationToken.None, creationOptions, TaskScheduler.Default, site);

    /// <summary>Creates and starts a task (<c>Task&lt;TResult&gt;.Factory.StartNew</c>).</summary>
    public static Task<TResult> StartNew<TResult>(TaskFactory<TResult> factory, Func<object?, TResult> function, object? state, CancellationToken cancellationToken, TaskCreationOptions creationOptions, TaskScheduler scheduler, string site)
    {
        if (Recorder.Live is not { } session)
        {
            return ControlledTaskFactoryOf.TaskFactory<TResult>.StartNew(factory, function!, state!, cancellationToken, creationOptions, scheduler);
        }

        var id = session.Tasks.Start(TaskProbes.EntryName(function), site, false).Id;
        var task = ControlledTaskFactoryOf.TaskFactory<TResult>.StartNew(factory, s => Body(id, () => function(s), site), state!, cancellationToken, creationOptions, scheduler);
        session.Tasks.Bind(task, id);
        return task;
    }

    private static TResult Body<TResult>(int id, Func<TResult> function, string site)
    {
        var previous = Recorder.SetCurrentTask(id);
        var settled = false;
        try
        {
            var result = function();
            if (result is Task inner)
            {
                // An async body: the task lives on in the task it returned, though StartNew's own task is complete.
                Recorder.Live?.Tasks.LivesOn(id, inner);
                TaskProbes.Settle(id, inner, site);
                settled = true;
            }

            return result;
        }
        finally
        {
            if (!settled)
            {
                Recorder.Live?.Tasks.End(id);
            }

            Recorder.RestoreFlow(previous);
        }
    }
}
