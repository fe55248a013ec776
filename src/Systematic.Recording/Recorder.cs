using System.Runtime.CompilerServices;
using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Systematic.Recording;

/// <summary>
/// The live recorder: one session per test iteration, started by the instrumented test method itself, so the same
/// recording happens under Systematic, under stock <c>coyote test</c> and under <c>coyote replay</c>.
/// </summary>
public static class Recorder
{
    /// <summary>The prefix of every failure message Systematic's own checks raise.</summary>
    public const string FailurePrefix = "[systematic] ";

    /// <summary>Events kept per iteration; later events are counted as dropped.</summary>
    public const int MaxEvents = 200_000;

    /// <summary>No site, for the overloads that take either an emitted or a resolved one.</summary>
    internal static SourceSite? NoSite => null;

    private static readonly AsyncLocal<FlowMark> Flow = new();
    private static Session? current;
    private static int sessions;

    private static readonly Lazy<DirectedPlan?> PlanFromEnvironment = new(() =>
        Environment.GetEnvironmentVariable(DirectedPlan.Variable) is { Length: > 0 } path ? DirectedPlan.Read(path) : null);

    private static RecorderSettings settings = RecorderSettings.None;

    /// <summary>Gets the settings of the run attached now (<see cref="Attach"/>), or <see cref="RecorderSettings.None"/>.</summary>
    public static RecorderSettings Settings => settings;

    /// <summary>Gets a value indicating whether a failure stops in an attached debugger, on the failing task's stack.</summary>
    public static bool BreakOnFailure => settings.BreakOnFailure;

    /// <summary>Gets the steps (event sequence numbers) at which <see cref="AtBreakStep"/> runs, or null for none.</summary>
    public static IReadOnlySet<int>? BreakSteps => settings.BreakSteps;

    /// <summary>
    /// Gets the schedule to build, when confirming a predicted lock-order cycle (or replaying one it confirmed); null for
    /// none. A stock <c>coyote replay</c> gets it from the file <see cref="DirectedPlan.Variable"/> names.
    /// </summary>
    public static DirectedPlan? Directed => settings.Directed ?? PlanFromEnvironment.Value;

    /// <summary>Gets what runs at each of <see cref="BreakSteps"/> (a debugger break, when replaying with --break).</summary>
    public static Action<RecordedEvent>? AtBreakStep => settings.AtBreakStep;

    /// <summary>
    /// Applies <paramref name="run"/> to the recorder until the returned scope is disposed, which restores what was
    /// there before: <c>using var scope = Recorder.Attach(new RecorderSettings { Directed = plan });</c>.
    /// </summary>
    public static IDisposable Attach(RecorderSettings run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var previous = settings;
        settings = run;
        return new Scope(previous);
    }

    private sealed class Scope(RecorderSettings previous) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (!this.disposed)
            {
                this.disposed = true;
                settings = previous;
            }
        }
    }

    /// <summary>Gets the log of the most recent iteration, or null when no instrumented test ran.</summary>
    public static IterationLog? Last => current?.Log;

    /// <summary>Gets the session being recorded, or null when none is, or when the calling flow does not belong to it (an earlier iteration's stray continuation, or code another test runs meanwhile).</summary>
    internal static Session? Live
    {
        get
        {
            if (current is not { Log.Frozen: false } session)
            {
                return null;
            }

            // Only flows that descend from the iteration's start record into it: another test running the same
            // instrumented code at the same time (a test runner runs tests in parallel) is not part of this iteration.
            return Flow.Value.Session == session.Id ? session : null;
        }
    }

    /// <summary>Gets where the recording stands on this flow of control: the task running here and the number of events recorded so far in the iteration (for a scheduler that marks its decisions).</summary>
    public static (int Task, int Events) Position => (CurrentTask, current?.Log.Events.Count ?? 0);

    internal static int CurrentTask
    {
        get
        {
            var mark = Flow.Value;
            return current is { } s && mark.Session == s.Id ? mark.Task : 0;
        }
    }

    /// <summary>Starts recording a new iteration of <paramref name="test"/>.</summary>
    public static void Begin(string test)
    {
        var session = new Session(++sessions, new IterationLog(test));
        current = session;
        Directed?.Reset();
        var root = session.Log.AddTask(test, null, 0, false);
        session.Emit(EventKind.TaskStart, root.Id, 0, NoSite);
        SetCurrentTask(root.Id);
        try
        {
            RuntimeProvider.Current.RegisterLog(new FailureLog(session));
            session.Choices = Generator.Create();
        }
        catch (InvalidOperationException)
        {
            // Not under a Coyote runtime: record without scheduling choices.
        }
    }

    /// <summary>Stops recording: tasks seen finished get their end events, and resources their final names.</summary>
    public static void Freeze(string? failure = null)
    {
        if (current is not { Log.Frozen: false } session)
        {
            return;
        }

        session.Tasks.ObserveCompletions();
        session.Resources.ApplyGivenNames();
        session.Log.Failure = failure;
        session.Log.Frozen = true;
    }

    /// <summary>Checks the end-of-test invariants: every permit is back and no task is left holding a lock.</summary>
    public static void CheckEndOfTest()
    {
        // Only the flow of the test that started this recording checks it (never a stray continuation of an older one).
        if (Live is not { } session || Flow.Value.Session != session.Id)
        {
            return;
        }

        session.Tasks.ObserveCompletions();
        if (session.Resources.FindLeaks() is not { } leaks)
        {
            Freeze();
            return;
        }

        Fail(new DetectedFailure(FailureKind.Leak, leaks.Resources, leaks.Tasks, null), leaks.Text);
    }

    /// <summary>
    /// Ends the iteration with a failure Systematic detected: the log is frozen with it, then Coyote reports it with the
    /// message <see cref="FailurePrefix"/> + kind + <paramref name="what"/> (what stock <c>coyote</c> shows).
    /// </summary>
    internal static void Fail(DetectedFailure failure, string what)
    {
        var message = $"{FailurePrefix}{failure.Kind}: {what}";
        if (current is { Log.Frozen: false } session)
        {
            session.Log.Detected = failure;
        }

        Freeze(message);
        try
        {
            Specification.Assert(false, message);
        }
        catch (ThreadInterruptedException) when (RunsInsideForeignCallback())
        {
            // Coyote has recorded the failure and stops the iteration. Its interrupt unwinds a controlled operation,
            // but here this code runs inside a callback Coyote did not start (a continuation run inline by an
            // uncontrolled task completion, a timer, the thread pool), which would turn it into a process crash.
        }
    }

    /// <summary>Whether the current code runs inside a callback of the runtime's (a continuation run inline, a thread-pool item, a timer), not directly in an operation of Coyote's. Only on the failure path: it walks the stack.</summary>
    private static bool RunsInsideForeignCallback()
    {
        if (Thread.CurrentThread.IsThreadPoolThread)
        {
            return true;
        }

        foreach (var frame in new System.Diagnostics.StackTrace(false).GetFrames())
        {
            if (frame.GetMethod()?.DeclaringType?.FullName is "System.Threading.Tasks.AwaitTaskContinuation" or "System.Threading.ThreadPoolWorkQueue" or "System.Threading.TimerQueueTimer")
            {
                return true;
            }
        }

        return false;
    }

    internal static FlowMark SetCurrentTask(int task)
    {
        var previous = Flow.Value;
        Flow.Value = new FlowMark(current?.Id ?? 0, task);
        return previous;
    }

    internal static void RestoreFlow(FlowMark mark) => Flow.Value = mark;

    internal readonly record struct FlowMark(int Session, int Task);

    private sealed class FailureLog(Session session) : IRuntimeLog
    {
        public void OnAssertionFailure(string error)
        {
            if (BreakOnFailure && System.Diagnostics.Debugger.IsAttached)
            {
                // Stopped at the failure: the failing task's frames are on this thread's stack.
                System.Diagnostics.Debugger.Break();
            }

            if (ReferenceEquals(current, session))
            {
                Freeze(error.StartsWith("[coyote::error] ", StringComparison.Ordinal) ? error["[coyote::error] ".Length..] : error);
            }
        }

        public void OnCreateMonitor(string monitorType)
        {
        }

        public void OnMonitorExecuteAction(string monitorType, string stateName, string actionName)
        {
        }

        public void OnMonitorProcessEvent(string monitorType, string stateName, string senderName, string senderType, string senderStateName, Microsoft.Coyote.Specifications.Monitor.Event e)
        {
        }

        public void OnMonitorRaiseEvent(string monitorType, string stateName, Microsoft.Coyote.Specifications.Monitor.Event e)
        {
        }

        public void OnMonitorStateTransition(string monitorType, string stateName, bool isEntry, bool? isInHotState)
        {
        }

        public void OnMonitorError(string monitorType, string stateName, bool? isInHotState)
        {
        }

        public void OnRandom(bool result, string callerName, string callerType)
        {
        }

        public void OnRandom(int result, string callerName, string callerType)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
