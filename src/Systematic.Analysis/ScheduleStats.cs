using System.Text.Json;
using System.Text.Json.Nodes;
using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>Counts of a schedule: Coyote's scheduling steps and context switches, and its preemptions (switches away from a task that could have gone on).</summary>
public sealed record ScheduleStats(int Steps, int Switches, int Preemptions)
{
    /// <summary>
    /// The counts of a failing schedule: steps and switches from its trace, preemptions from its recording, exactly at
    /// the granularity of the recorded synchronization points (<see cref="Preempted"/>); without a recording, estimated
    /// from the trace's scheduling-point kinds.
    /// </summary>
    public static ScheduleStats Of(string trace, IterationLog? log) =>
        log is null ? Of(trace) : Of(trace) with { Preemptions = Preempted(log) };

    /// <summary>
    /// Counts the preemptions of a recorded iteration: each time the recorded steps pass from one logical task to
    /// another while the first could have gone on (it had neither finished nor blocked: its last step was no wait that
    /// had to wait, no await of an unfinished task, no <c>Monitor.Wait</c>).
    /// </summary>
    public static int Preempted(IterationLog log)
    {
        var state = new WaitForState();
        int? current = null;
        RecordedEvent? last = null;
        var preemptions = 0;
        foreach (var e in log.Events)
        {
            var by = Runner(log, e);
            if (by > 0 && current is { } previous && previous != by && last is not null && CouldGoOn(log, state, last))
            {
                preemptions++;
            }

            state.Apply(e, log);
            if (by > 0)
            {
                current = by;
                last = e;
            }
        }

        return preemptions;
    }

    /// <summary>The logical task that took a step: a task's start is a step of the task that started it; a TaskCompletionSource's "task" takes none.</summary>
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

        return e.Kind == EventKind.TaskStart ? (task.Parent > 0 ? log.Logical(task.Parent) : 0) : log.Logical(e.Task);
    }

    private static bool CouldGoOn(IterationLog log, WaitForState state, RecordedEvent last)
    {
        if (last.Kind == EventKind.TaskEnd && log.Logical(last.Task) == last.Task)
        {
            return false;
        }

        return last.Kind switch
        {
            EventKind.Wait => last.Count > 0,
            EventKind.WaitForPulse => false,
            EventKind.Await => !(state.Tasks.TryGetValue(last.Task, out var t) && t.Blocked is AwaitingTasks),
            _ => true,
        };
    }

    private static readonly HashSet<string> Blocking = new(StringComparer.Ordinal) { "Pause", "Complete", "Halt", "Wait", "Join", "Receive", "Default" };

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
            if (!Blocking.Contains(Between(text, "sp(", ")") ?? ""))
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
