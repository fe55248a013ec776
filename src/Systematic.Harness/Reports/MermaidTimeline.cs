using System.Globalization;
using System.Text;
using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness.Reports;

/// <summary>The timeline as a Mermaid sequence diagram (renders on GitHub): tasks and resources are participants.</summary>
internal static class MermaidTimeline
{
    private const int MaxMessages = 80;

    public static string Render(LogView view)
    {
        var events = view.TimelineEvents().Where(e => e.Task > 0 && e.Resource > 0 && e.Kind is EventKind.Acquire or EventKind.Wait or EventKind.Release or EventKind.TimedOut or EventKind.Cancelled or EventKind.OverRelease or EventKind.WaitForPulse or EventKind.Pulse or EventKind.PulseAll).ToList();
        if (events.Count > MaxMessages)
        {
            events = events.Skip(events.Count - MaxMessages).ToList();
        }

        var text = new StringBuilder("sequenceDiagram\n");
        var tasks = events.Select(e => view.Logical(e.Task)).Distinct().ToList();
        var resources = events.Select(e => e.Resource).Distinct().ToList();
        foreach (var task in tasks)
        {
            text.Append(CultureInfo.InvariantCulture, $"    participant T{task} as {Label(view.TaskName(task))}\n");
        }

        foreach (var resource in resources)
        {
            text.Append(CultureInfo.InvariantCulture, $"    participant R{resource} as {Label(view.ResourceName(resource))}\n");
        }

        foreach (var e in events)
        {
            var (arrow, verb) = e.Kind switch
            {
                EventKind.Acquire => ("->>", "acquire"),
                EventKind.Wait => ("-->>", "wait"),
                EventKind.Release => ("->>", "release"),
                EventKind.OverRelease => ("-x", "over-release"),
                EventKind.TimedOut => ("--x", "timed out"),
                EventKind.WaitForPulse => ("-->>", "Monitor.Wait"),
                EventKind.Pulse or EventKind.PulseAll => ("->>", $"{(e.Kind == EventKind.Pulse ? "Pulse" : "PulseAll")} woke {((e.Targets ?? []).Count == 0 ? "no one" : string.Join(", ", (e.Targets ?? []).Select(view.TaskName)))}"),
                _ => ("--x", "cancelled"),
            };
            text.Append(CultureInfo.InvariantCulture, $"    T{view.Logical(e.Task)}{arrow}R{e.Resource}: {Label($"{e.Seq} {verb} at {LogView.Short(e.Site)}")}\n");
        }

        return text.ToString();
    }

    /// <summary>Mermaid text with every character that has a meaning in its syntax written as an entity code (#NNN;).</summary>
    private static string Label(string value)
    {
        var builder = new StringBuilder();
        foreach (var c in value.Length > 120 ? value[..120] : value)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or '_' or '-' or '(' or ')')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"#{(int)c};");
            }
        }

        return builder.ToString();
    }
}
