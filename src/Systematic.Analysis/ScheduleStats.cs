using System.Text.Json;
using System.Text.Json.Nodes;

namespace Systematic.Analysis;

/// <summary>Counts of a Coyote trace: scheduling steps, context switches, and preemptions (switches away from an operation that could have gone on).</summary>
public sealed record ScheduleStats(int Steps, int Switches, int Preemptions)
{
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
