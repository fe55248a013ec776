using System.ComponentModel;

namespace Systematic.Recording;

/// <summary>
/// Probes the instrumenter puts into async methods: each call of an async method is a task of its own, part of its
/// caller's flow when the caller awaits it at once.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class AsyncProbes
{
    private static readonly AsyncLocal<string?> CallerSite = new();

    [ThreadStatic]
    private static bool awaitedCallPending;

    [ThreadStatic]
    private static string? awaitedCallSite;

    [ThreadStatic]
    private static Exception? pendingFault;

    /// <summary>
    /// Called before a call to a method marked <see cref="System.Diagnostics.StackTraceHiddenAttribute"/> (a wrapper such as
    /// an asyncio-style semaphore): events inside it are reported at this call site. Returns the site to restore.
    /// </summary>
    public static string? EnterCallerSite(string site)
    {
        var previous = CallerSite.Value;
        if (previous is null && Recorder.Live is not null)
        {
            CallerSite.Value = site;
        }

        return previous;
    }

    /// <summary>Called after a call to a hidden wrapper returns.</summary>
    public static void ExitCallerSite(string? previous)
    {
        if (!ReferenceEquals(CallerSite.Value, previous))
        {
            CallerSite.Value = previous;
        }
    }

    /// <summary>Gets where a probe's event happened: the hidden wrapper's caller when one is being called, else the probe's own emitted site.</summary>
    internal static SourceSite? Site(string? site) => SourceSite.Of(CallerSite.Value ?? site);

    /// <summary>Gets the hidden wrapper's caller when one is being called, else <paramref name="site"/>.</summary>
    internal static SourceSite? AtCaller(SourceSite? site) => CallerSite.Value is { } caller ? SourceSite.Of(caller) : site;

    /// <summary>Marks the next async method entered on this thread as awaited at once by its caller, called at <paramref name="site"/>.</summary>
    public static void AwaitedCall(string site)
    {
        if (Recorder.Live is not null)
        {
            awaitedCallPending = true;
            awaitedCallSite = site;
        }
    }

    /// <summary>
    /// Called after an awaited call returns: when it ran no instrumented async method (an interface or virtual call whose
    /// implementation is not async, or not instrumented), the mark must not pass to a later, unrelated call.
    /// </summary>
    public static void AwaitedCallReturned() => awaitedCallPending = false;

    /// <summary>Called first in an async method's stub; returns the caller's flow to restore.</summary>
    public static long Enter(string method)
    {
        var inline = awaitedCallPending;
        var calledAt = awaitedCallSite;
        awaitedCallPending = false;
        awaitedCallSite = null;
        if (Recorder.Live is not { } session)
        {
            return -1;
        }

        if (inline)
        {
            // Awaited at once: it runs as part of its caller's task, which records its events; no task of its own.
            session.Tasks.EnterInline(Recorder.CurrentTask, Site(calledAt));
            return -2;
        }

        var info = session.Tasks.Start(method, Recorder.NoSite, inline: false);
        var previous = Recorder.SetCurrentTask(info.Id);
        return ((long)previous.Session << 32) | (uint)previous.Task;
    }

    /// <summary>Called last in an async method's stub with the task it returns.</summary>
    public static void Exit(Task task, long token)
    {
        if (token == -2)
        {
            // Awaited at once by its caller, whose task it is part of: awaiting it is no wait of its own.
            Recorder.Live?.Tasks.NoteInline(task);
            return;
        }

        if (token < 0)
        {
            return;
        }

        var id = Recorder.CurrentTask;
        Recorder.RestoreFlow(new Recorder.FlowMark((int)(token >> 32), (int)token));
        Recorder.Live?.Tasks.Bind(task, id);
    }

    /// <summary>Called last in a ValueTask-returning async method's stub with the value task it returns.</summary>
    public static void ExitValueTask(ValueTask task, long token)
    {
        if (token == -2 || token >= 0)
        {
            // The builder's value task wraps a Task unless it completed at once (then there is nothing to wait for).
            Exit(ValueTaskProbes.Payload(task) ?? Task.CompletedTask, token);
        }
    }

    /// <summary>Called last in a ValueTask&lt;T&gt;-returning async method's stub with the value task it returns.</summary>
    public static void ExitValueTask<TResult>(ValueTask<TResult> task, long token)
    {
        if (token == -2 || token >= 0)
        {
            Exit(ValueTaskProbes.Payload(task) ?? Task.CompletedTask, token);
        }
    }

    /// <summary>Called with the exception an async method completes with (before its builder's SetException); returns it.</summary>
    public static Exception Faulted(Exception exception)
    {
        if (Recorder.Live is not null)
        {
            pendingFault = exception;
        }

        return exception;
    }

    /// <summary>Called when an async method completes (before its builder's SetResult or SetException).</summary>
    public static void Completed()
    {
        var fault = pendingFault;
        pendingFault = null;
        if (Recorder.Live is { } session)
        {
            var task = Recorder.CurrentTask;
            if (session.Tasks.ExitInline(task))
            {
                // An async call its caller awaited: what it threw goes on in the caller, which may catch it.
                return;
            }

            if (fault is not null && task > 0)
            {
                session.Log.SetFault(task, TaskFault(fault));
            }

            session.Tasks.End(task);
        }
    }

    private static TaskFault TaskFault(Exception exception)
    {
        var frame = new System.Diagnostics.StackTrace(exception, fNeedFileInfo: true).GetFrames().FirstOrDefault(f => f.GetFileName() is { Length: > 0 });
        var method = frame?.GetMethod();
        var at = frame is null ? null : new SourceSite(frame.GetFileName()!, frame.GetFileLineNumber(), $"{method?.DeclaringType?.Name}.{method?.Name}");
        return new TaskFault(exception.GetType().Name, at);
    }
}
