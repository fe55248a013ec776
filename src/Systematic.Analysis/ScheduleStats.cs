using System.Text.Json;
using System.Text.Json.Nodes;
using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>Counts of a schedule: Coyote's scheduling steps and context switches, and its preemptions (switches away from a task that could have gone on).</summary>
internal sealed record ScheduleStats(int Steps, int Switches, int Preemptions)
{
    /// <summary>Scheduling-point kinds after which the operation cannot go on (for the estimate from a trace alone).</summary>
    private static readonly HashSet<string> BlockingKinds = new(StringComparer.Ordinal) { "Pause", "Complete", "Halt", "Wait", "Join", "Receive", "Default" };

    /// <summary>
    /// The counts of a failing schedule: steps and switches from its trace, preemptions from its recording, exactly at
    /// the granularity of the recorded synchronization points (<see cref="Preempted"/>); without a recording, estimated
    /// from the trace's scheduling-point kinds.
    /// </summary>
    public static ScheduleStats Of(string trace, IterationLog? log) =>
        log is null ? Of(trace) : Of(trace) with { Preemptions = Preempted(log), Narration = Narrate(log) };

    /// <summary>
    /// The counts of a schedule whose preemptions the scheduler that made them counted (a bounded search): one per
    /// mark, each told from where the recording stood when its flow was preempted (the task running and the events
    /// recorded before).
    /// </summary>
    public static ScheduleStats Counted(string trace, IterationLog? log, IReadOnlyList<(int Task, int Events)> marks) =>
        Of(trace) with { Preemptions = marks.Count, Narration = log is null ? [] : NarrateMarks(log, marks), Exact = true };

    /// <summary>Gets whether the preemptions were counted by the scheduler that made them (exact), not read back from the recording.</summary>
    public bool Exact { get; init; }

    /// <summary>Tells each marked preemption: the preempted flow's last telling step before the mark, and the first telling step another flow takes after it.</summary>
    private static List<string> NarrateMarks(IterationLog log, IReadOnlyList<(int Task, int Events)> marks)
    {
        var view = new LogView(log);
        var lines = new List<string>();
        foreach (var (task, before) in marks)
        {
            var events = log.Events;
            var end = Math.Min(before, events.Count);
            var from = task > 0 && task <= log.Tasks.Count ? Flow(log, task) : 0;
            RecordedEvent? last = null;
            for (var i = end - 1; i >= 0 && from > 0; i--)
            {
                if (Runner(log, events[i]) == from && Telling(log, events[i], from))
                {
                    last = events[i];
                    break;
                }
            }

            RecordedEvent? next = null;
            var to = 0;
            for (var i = end; i < events.Count; i++)
            {
                var by = Runner(log, events[i]);
                if (by > 0 && by != from && Telling(log, events[i], by))
                {
                    (next, to) = (events[i], by);
                    break;
                }
            }

            var who = from > 0 ? $"`{view.TaskName(from)}`" : "The running task";
            var what = next is null ? "the others run" : $"`{view.TaskName(to)}` runs and {Does(view, next)}";
            lines.Add($"{who} is preempted right after {Done(view, last)}; {what}.");
        }

        return lines;
    }

    /// <summary>Gets each preemption in one line: who is preempted right after which step, and what runs instead (empty when unknown).</summary>
    public IReadOnlyList<string> Narration { get; init; } = [];

    /// <summary>
    /// Tells each preemption of a recorded iteration in one line, with task, resource and source line: "`Transfer#1` is
    /// preempted right after taking `accountA` at LockOrder.cs:51; `Transfer#2` runs and takes `accountB` at LockOrder.cs:51."
    /// </summary>
    public static IReadOnlyList<string> Narrate(IterationLog log)
    {
        var view = new LogView(log);
        return PreemptionPoints(log).Select(p =>
            $"`{view.TaskName(p.From)}` is preempted right after {Done(view, p.Last)}; `{view.TaskName(p.To)}` runs and {Does(view, p.Next)}.").ToList();
    }

    private static string Resource(LogView view, RecordedEvent e) => e.Resource > 0 ? $"`{view.ResourceName(e.Resource)}`" : "?";

    private static string At(RecordedEvent e) => e.Site is { } site ? $" at {site.Described}" : "";

    private static string Done(LogView view, RecordedEvent? e) => e is null ? "it starts" : e.Kind switch
    {
        EventKind.Acquire => $"taking {Resource(view, e)}{At(e)}",
        EventKind.Release => $"releasing {Resource(view, e)}{At(e)}",
        EventKind.Wait => $"asking for {Resource(view, e)}{At(e)}",
        EventKind.TaskStart => $"starting `{view.TaskName(e.Task)}`{At(e)}",
        EventKind.TaskEnd => "finishing",
        EventKind.Await => $"awaiting {string.Join(", ", (e.Targets ?? []).Select(t => $"`{view.TaskName(t)}`"))}{At(e)}",
        EventKind.Pulse or EventKind.PulseAll => $"pulsing {Resource(view, e)}{At(e)}",
        _ => $"its {e.Kind.ToString().ToLowerInvariant()}{At(e)}",
    };

    private static string Does(LogView view, RecordedEvent e) => e.Kind switch
    {
        EventKind.Acquire => $"takes {Resource(view, e)}{At(e)}",
        EventKind.Release => $"releases {Resource(view, e)}{At(e)}",
        EventKind.Wait => $"asks for {Resource(view, e)}{At(e)}",
        EventKind.TaskStart => $"starts `{view.TaskName(e.Task)}`{At(e)}",
        EventKind.TaskEnd => "finishes",
        EventKind.Await => $"awaits {string.Join(", ", (e.Targets ?? []).Select(t => $"`{view.TaskName(t)}`"))}{At(e)}",
        EventKind.Pulse or EventKind.PulseAll => $"pulses {Resource(view, e)}{At(e)}",
        EventKind.WaitForPulse => $"waits in Monitor.Wait on {Resource(view, e)}{At(e)}",
        _ => $"records {e.Kind.ToString().ToLowerInvariant()}{At(e)}",
    };

    /// <summary>
    /// Counts the preemptions of a recorded iteration: each time the recorded steps pass from one flow of control (a
    /// Task.Run or StartNew body, a thread, the test, with the async calls they make) to another while some task of the
    /// first could have gone on: started, not finished, waiting for nothing (no wait that had to wait, no await of an
    /// unfinished task of another flow, no <c>Monitor.Wait</c>).
    /// </summary>
    public static int Preempted(IterationLog log) => PreemptionPoints(log).Count;

    /// <summary>The preemptions of a recorded iteration: the flow preempted and its last step, the flow that runs and its first step.</summary>
    private static List<(int From, RecordedEvent? Last, int To, RecordedEvent Next)> PreemptionPoints(IterationLog log)
    {
        var state = new WaitForState();
        var flows = log.Tasks.Select(t => Flow(log, t.Id)).ToArray();
        int? current = null;
        var last = new Dictionary<int, RecordedEvent>();
        var preemptions = new List<(int, RecordedEvent?, int, RecordedEvent)>();
        var events = log.Events;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var by = Runner(log, e);
            if (by > 0 && current is { } previous && previous != by && CouldGoOn(log, state, flows, previous))
            {
                // Told by what a person would see: the flow's last and next steps on a lock, a semaphore or another flow.
                var next = events.Skip(i).Take(64).FirstOrDefault(n => Runner(log, n) == by && Telling(log, n, by)) ?? e;
                preemptions.Add((previous, last.GetValueOrDefault(previous), by, next));
            }

            state.Apply(e, log);
            if (by > 0)
            {
                current = by;
                if (Telling(log, e, by))
                {
                    last[by] = e;
                }
            }
        }

        return preemptions;
    }

    /// <summary>Whether a step says something about the flow that takes it: a lock, semaphore or monitor step, starting or awaiting another flow, finishing.</summary>
    private static bool Telling(IterationLog log, RecordedEvent e, int flow) => e.Kind switch
    {
        EventKind.TaskStart => Flow(log, e.Task) != flow,
        EventKind.TaskEnd => Flow(log, e.Task) == e.Task,
        EventKind.Await => (e.Targets ?? []).Any(t => t > 0 && Flow(log, t) != flow),
        EventKind.Create or EventKind.Signaling => false,
        _ => e.Resource > 0,
    };

    /// <summary>Whether a flow could take another step: some task of it (the flow's body or an async call of it) has started, not finished, and waits for nothing.</summary>
    private static bool CouldGoOn(IterationLog log, WaitForState state, int[] flows, int flow)
    {
        for (var i = 0; i < flows.Length; i++)
        {
            if (flows[i] != flow || log.Tasks[i].Promise || !state.Tasks.TryGetValue(i + 1, out var task) || task.Ended)
            {
                continue;
            }

            var runnable = task.Blocked switch
            {
                null => true,

                // A wait recorded before taking a free monitor or permit did not have to wait.
                WaitingForResource w => log.Events[w.Seq - 1].Count > 0,
                AwaitingTasks a => a.Targets.All(t => t > 0 && state.Tasks.TryGetValue(t, out var target) && target.Ended),
                _ => false,
            };
            if (runnable)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The flow of control that took a step: an async method's call runs in its caller's flow until it first waits and
    /// returns to it then (a call and a return, no switch); a Task.Run body, a StartNew body or a thread is a flow of
    /// its own. A task's start is a step of the flow that started it; a TaskCompletionSource's "task" takes none.
    /// </summary>
    private static int Runner(IterationLog log, RecordedEvent e)
    {
        if (e.Task <= 0 || e.Task > log.Tasks.Count)
        {
            return 0;
        }

        var task = log.Task(e.Task);
        if (task.Promise)
        {
            return 0;
        }

        return Flow(log, e.Kind == EventKind.TaskStart ? task.Parent : e.Task);
    }

    private static int Flow(IterationLog log, int task)
    {
        // Async calls (no start site of their own) belong to the flow that called them.
        for (var guard = 0; task > 0 && guard < 10_000; guard++)
        {
            var info = log.Task(task);
            if (info.Site is not null || info.Parent <= 0)
            {
                return task;
            }

            task = info.Parent;
        }

        return task;
    }

    /// <summary>Reads the counts of a trace's <c>Steps</c>; entries look like <c>op(1:…),sp(Acquire),next(2:…)</c>.</summary>
    public static ScheduleStats Of(string trace)
    {
        JsonArray? steps;
        try
        {
            steps = (JsonNode.Parse(trace) as JsonObject)?["Steps"] as JsonArray;
        }
        catch (JsonException)
        {
            steps = null;
        }

        var (count, switches, preemptions) = (0, 0, 0);
        foreach (var step in steps ?? [])
        {
            var text = step?.GetValue<string>() ?? "";
            count++;
            var from = Between(text, "op(", ")");
            var to = Between(text, "next(", ")");
            if (from is null || to is null || from == to)
            {
                continue;
            }

            switches++;
            if (!BlockingKinds.Contains(Between(text, "sp(", ")") ?? ""))
            {
                preemptions++;
            }
        }

        return new ScheduleStats(count, switches, preemptions);
    }

    private static string? Between(string text, string open, string close)
    {
        var start = text.IndexOf(open, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        start += open.Length;
        var end = text.IndexOf(close, start, StringComparison.Ordinal);
        return end < 0 ? null : text[start..end];
    }
}
