using System.Globalization;
using System.Net;
using System.Text;
using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness.Reports;

/// <summary>
/// The run's self-contained <c>report.html</c> (no script, no external font, stylesheet or image: it opens from disk):
/// an index of every test, and per failure the diagnosis, the minimal schedule (its preemptions told one by one) and
/// its swimlane timeline, the timeline of the schedule found, the wait-for graph at the failure with the cycle
/// highlighted, the source lines and the replay commands.
/// </summary>
internal static class HtmlReport
{
    private const int MaxTimelineEvents = 120;
    private const int LaneHeight = 46;
    private const int StepWidth = 34;
    private const int LabelWidth = 190;
    private const int GraphSize = 560;

    public static string Render(SummaryDocument summary, IReadOnlyDictionary<string, FailureDocument> failures)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Systematic run ").Append(E(summary.Run)).Append("</title>\n<style>")
            .Append("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222;max-width:1400px}")
            .Append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}")
            .Append("th{background:#f3f3f3}.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}")
            .Append("code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}pre{background:#f6f8fa;padding:8px;overflow-x:auto;white-space:pre-wrap}")
            .Append(".failure{border-top:2px solid #ddd;margin-top:2em;padding-top:1em}.sentence{font-size:16px;background:#fff8e1;padding:8px;border-left:4px solid #f9a825}")
            .Append(".kind{display:inline-block;padding:2px 8px;border-radius:10px;background:#c62828;color:#fff;font-size:13px}.kind.expected{background:#546e7a}")
            .Append("svg text{font-family:system-ui,sans-serif;font-size:11px}.lane-label{font-size:12px;font-weight:600}")
            .Append(".scroll{overflow-x:auto;border:1px solid #eee}")
            .Append("</style></head><body>\n");
        html.Append("<h1>Systematic run ").Append(E(summary.Run)).Append("</h1>\n");
        var met = summary.Tests.Count(t => t.ExpectationMet);
        html.Append("<p>").Append(met).Append(" of ").Append(summary.Tests.Count).Append(" tests as expected").Append(summary.Interrupted ? " (interrupted)" : "").Append(".</p>\n");

        html.Append("<table class=\"index\"><tr><th>test</th><th>outcome</th><th>kind</th><th>expected</th><th>as expected</th><th>first bug at</th><th>iterations</th><th>time (s)</th></tr>\n");
        foreach (var test in summary.Tests)
        {
            var anchor = failures.ContainsKey(test.Test) ? $"<a href=\"#{Anchor(test.Test)}\">{E(test.Test)}</a>" : E(test.Test);
            html.Append("<tr><td>").Append(anchor).Append("</td><td>").Append(E(test.Outcome.Name())).Append("</td><td>").Append(E(test.Kind?.ToString() ?? "")).Append("</td><td>").Append(E(OutcomeNames.Expected(test.Expected)))
                .Append("</td><td class=\"").Append(test.ExpectationMet ? "ok\">yes" : "bad\">NO").Append("</td><td>").Append(test.FirstBugIteration?.ToString(CultureInfo.InvariantCulture) ?? "")
                .Append("</td><td>").Append(test.Iterations.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(test.Seconds.ToString("0.00", CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
        foreach (var test in summary.Tests)
        {
            if (failures.TryGetValue(test.Test, out var failure))
            {
                AppendFailure(html, test, failure);
            }
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void AppendFailure(StringBuilder html, SummaryTest test, FailureDocument failure)
    {
        html.Append("<section class=\"failure\" id=\"").Append(Anchor(test.Test)).Append("\">\n<h2>").Append(E(test.Test)).Append(" <span class=\"kind")
            .Append(test.ExpectationMet ? " expected" : "").Append("\">").Append(E(failure.Kind.ToString())).Append("</span></h2>\n");
        html.Append("<p class=\"sentence\">").Append(Sentence(failure.Sentence)).Append("</p>\n");
        foreach (var consequence in failure.Consequences)
        {
            html.Append("<p>Then: ").Append(Sentence(consequence)).Append("</p>\n");
        }

        AppendSchedules(html, failure);
        AppendSourceLines(html, failure);
        AppendReplay(html, failure);
        html.Append("</section>\n");
    }

    /// <summary>As in report.md: the schedule a person can follow first (the fewest preemptions, told one by one), then the one found and its wait-for graph.</summary>
    private static void AppendSchedules(StringBuilder html, FailureDocument failure)
    {
        var minimalShown = failure.Minimal is not null && failure.MinimalLog is not null;
        if (failure.Minimal is { } least && failure.MinimalLog is { } minimal)
        {
            html.Append("<h3 class=\"minimal-timeline\">").Append(Sentence(FailureReport.MinimalTitle(least))).Append("</h3>\n");
            AppendSchedule(html, failure);
            html.Append("<div class=\"scroll\">").Append(Timeline(new LogView(minimal.ToLog(failure.Test, failure.Message)))).Append("</div>\n");
        }

        if (failure.Log is { } document)
        {
            var log = document.ToLog(failure.Test, failure.Message);
            var view = new LogView(log);
            html.Append("<h3 class=\"found-timeline\">").Append(minimalShown ? Sentence(FailureReport.FoundTitle) : "Timeline").Append("</h3>\n<div class=\"scroll\">").Append(Timeline(view)).Append("</div>\n");
            html.Append("<h3>Wait-for graph at the failure</h3>\n<div class=\"scroll\">").Append(WaitForGraph(view, failure)).Append("</div>\n");
        }

        if (!minimalShown && (failure.Schedule is not null || failure.Minimal is not null))
        {
            html.Append("<h3>Schedule</h3>\n");
            AppendSchedule(html, failure);
        }
    }

    private static void AppendSourceLines(StringBuilder html, FailureDocument failure)
    {
        var lines = FailureReport.SourceLines(failure);
        if (lines.Count == 0)
        {
            return;
        }

        html.Append("<h3>Source lines</h3>\n<ul>");
        foreach (var (site, code) in lines)
        {
            html.Append("<li><code>").Append(E($"{site.File}:{site.Line}")).Append("</code> in <code>").Append(E(site.Method)).Append("</code>")
                .Append(code is null ? "" : $": <code>{E(code.Trim())}</code>").Append("</li>");
        }

        html.Append("</ul>\n");
    }

    /// <summary>The replay commands (Systematic's, and stock Coyote's or why there is none), then the minimal schedule's.</summary>
    private static void AppendReplay(StringBuilder html, FailureDocument failure)
    {
        html.Append("<h3>Replay</h3>\n<pre>").Append(E(failure.Replay.Systematic)).Append(failure.Replay.Coyote is { } stock ? "\n" + E(stock) : "").Append("</pre>\n");
        if (failure.Replay.NoCoyoteBecause is { } why)
        {
            html.Append("<p>Stock Coyote cannot replay it: ").Append(E(why)).Append(".</p>\n");
        }

        if (failure.MinimalReplay is { } minimalReplay)
        {
            html.Append("<p>The minimal schedule:</p>\n<pre>").Append(E(minimalReplay.Systematic)).Append(minimalReplay.Coyote is { } minimalStock ? "\n" + E(minimalStock) : "").Append("</pre>\n");
        }
    }

    /// <summary>What the schedule says about preemptions (exactly how many the failure needs, or at most) and the one-line narration of each.</summary>
    private static void AppendSchedule(StringBuilder html, FailureDocument failure)
    {
        if ((failure.Schedule ?? failure.Minimal?.Stats) is not { } schedule)
        {
            return;
        }

        var (found, headline, tail) = FailureReport.ScheduleStatement(failure, schedule);
        html.Append("<p class=\"schedule\">").Append(Sentence(found)).Append(' ');
        if (headline.Length > 0)
        {
            html.Append("<strong>").Append(Sentence(headline)).Append("</strong>");
        }

        html.Append(Sentence(tail)).Append("</p>\n");
        var story = FailureReport.Narration(failure, failure.Schedule);
        if (story.Count == 0)
        {
            return;
        }

        html.Append("<p>").Append(failure.Minimal is not null ? "Its preemptions, in the minimal schedule:" : "Its preemptions:").Append("</p>\n<ul class=\"preemptions\">");
        foreach (var line in story.Take(FailureReport.MaxNarration))
        {
            html.Append("<li>").Append(Sentence(line)).Append("</li>");
        }

        if (story.Count > FailureReport.MaxNarration)
        {
            html.Append("<li>… and ").Append(story.Count - FailureReport.MaxNarration).Append(" more</li>");
        }

        html.Append("</ul>\n");
    }

    /// <summary>One lane per task; acquire, wait, release and await marks along the step axis up to the failure.</summary>
    private static string Timeline(LogView view)
    {
        var events = TimelineEvents(view);
        var lanes = events.Select(e => view.Logical(e.Task)).Distinct().ToList();
        var width = Math.Max(760, LabelWidth + (Math.Max(events.Count, 1) * StepWidth) + 20);
        var height = (lanes.Count * LaneHeight) + 40;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"timeline\">");
        for (var i = 0; i < lanes.Count; i++)
        {
            var y = 20 + (i * LaneHeight) + (LaneHeight / 2);
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"lane\"><text class=\"lane-label\" x=\"6\" y=\"{y + 4}\">{E(view.TaskName(lanes[i]))}</text>")
               .Append(CultureInfo.InvariantCulture, $"<line x1=\"{LabelWidth}\" y1=\"{y}\" x2=\"{width - 10}\" y2=\"{y}\" stroke=\"#ddd\"/></g>");
        }

        for (var i = 0; i < events.Count; i++)
        {
            AppendMark(svg, view, events[i], i, lanes.IndexOf(view.Logical(events[i].Task)));
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth}\" y=\"{height - 6}\" fill=\"#777\">step →  (● acquire  ○ wait  ■ release  ◆ await  | end; red: blocked at the failure)</text></svg>");
        return svg.ToString();
    }

    /// <summary>The events a timeline shows: the tasks' marks and ends, the last <see cref="MaxTimelineEvents"/> of them.</summary>
    private static List<RecordedEvent> TimelineEvents(LogView view)
    {
        var events = view.TimelineEvents().Where(e => e.Task > 0 && e.Kind is not (EventKind.TaskStart or EventKind.TaskEnd) || e.Kind == EventKind.TaskEnd).ToList();
        if (events.Count > MaxTimelineEvents)
        {
            events = events.Skip(events.Count - MaxTimelineEvents).ToList();
        }

        return events;
    }

    /// <summary>The mark of the <paramref name="i"/>th event on its lane, with its title and its resource's label.</summary>
    private static void AppendMark(StringBuilder svg, LogView view, RecordedEvent e, int i, int lane)
    {
        var x = LabelWidth + (i * StepWidth) + (StepWidth / 2);
        var y = 20 + (lane * LaneHeight) + (LaneHeight / 2);
        var resource = e.Resource > 0 ? view.ResourceName(e.Resource) : "";
        var stillBlocked = e.Kind is EventKind.Wait or EventKind.WaitForPulse && view.State.Tasks.TryGetValue(e.Task, out var state) && !state.Ended && state.Blocked?.Seq == e.Seq;
        var title = $"step {e.Seq}: {view.TaskName(e.Task)} {e.Kind.ToString().ToLowerInvariant()} {resource} at {LogView.Short(e.Site)}{(stillBlocked ? " (blocked at the failure)" : "")}";
        svg.Append("<g class=\"mark ").Append(e.Kind.ToString().ToLowerInvariant()).Append(stillBlocked ? " failing-wait" : "").Append("\"><title>").Append(E(title)).Append("</title>");
        svg.Append(Shape(e.Kind, x, y, stillBlocked));
        if (resource.Length > 0)
        {
            // Labels alternate above and below the lane so that neighbours do not overlap.
            var labelY = i % 2 == 0 ? y - 12 : y + 20;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{labelY}\" text-anchor=\"middle\" fill=\"#555\">{E(Abbreviate(resource, 9))}</text>");
        }

        svg.Append("</g>");
    }

    private static string Shape(EventKind kind, int x, int y, bool stillBlocked) => kind switch
    {
        EventKind.Acquire => $"<circle cx=\"{x}\" cy=\"{y}\" r=\"7\" fill=\"#2e7d32\"/>",
        EventKind.Wait => stillBlocked ? $"<circle cx=\"{x}\" cy=\"{y}\" r=\"9\" fill=\"#c62828\" stroke=\"#7f0000\" stroke-width=\"2\"/>" : $"<circle cx=\"{x}\" cy=\"{y}\" r=\"7\" fill=\"#fff\" stroke=\"#ef6c00\" stroke-width=\"2\"/>",
        EventKind.Release => $"<rect x=\"{x - 6}\" y=\"{y - 6}\" width=\"12\" height=\"12\" fill=\"#1565c0\"/>",
        EventKind.Await => $"<polygon points=\"{x},{y - 7} {x + 7},{y} {x},{y + 7} {x - 7},{y}\" fill=\"#9e9e9e\"/>",
        EventKind.OverRelease => $"<polygon points=\"{x},{y - 9} {x + 8},{y + 7} {x - 8},{y + 7}\" fill=\"#c62828\"/>",
        EventKind.WaitForPulse => stillBlocked ? $"<circle cx=\"{x}\" cy=\"{y}\" r=\"9\" fill=\"#c62828\" stroke=\"#7f0000\" stroke-width=\"2\"/>" : $"<circle cx=\"{x}\" cy=\"{y}\" r=\"7\" fill=\"#fff\" stroke=\"#6a1b9a\" stroke-width=\"2\"/>",
        EventKind.Pulse or EventKind.PulseAll => $"<path d=\"M{x - 7},{y} L{x},{y - 8} L{x + 7},{y} M{x - 7},{y + 6} L{x},{y - 2} L{x + 7},{y + 6}\" stroke=\"#6a1b9a\" stroke-width=\"2\" fill=\"none\"/>",
        EventKind.TaskEnd => $"<line x1=\"{x}\" y1=\"{y - 8}\" x2=\"{x}\" y2=\"{y + 8}\" stroke=\"#333\" stroke-width=\"3\"/>",
        _ => $"<text x=\"{x - 4}\" y=\"{y + 4}\" fill=\"#6a1b9a\">x</text>",
    };

    /// <summary>Tasks and resources at the failure: waits-for edges from tasks to resources, held-by edges from resources to tasks; the cycle in red.</summary>
    private static string WaitForGraph(LogView view, FailureDocument failure)
    {
        List<GraphEdge> edges = [.. WaitEdges(view, failure.Cycle), .. HeldByEdges(view, failure.Cycle)];
        var nodes = edges.SelectMany(e => new[] { e.From, e.To }).Distinct().ToList();
        if (nodes.Count == 0)
        {
            return "<svg class=\"waitfor-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" height=\"40\"><text x=\"10\" y=\"24\">Nobody holds or waits for anything at the failure.</text></svg>";
        }

        var positions = OnACircle(nodes);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"waitfor-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{GraphSize}\" height=\"{GraphSize}\" role=\"img\" aria-label=\"wait-for graph\">")
           .Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker>")
           .Append("<marker id=\"arrow-red\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#c62828\"/></marker></defs>");
        foreach (var edge in edges)
        {
            AppendEdge(svg, edge, positions);
        }

        foreach (var (node, (x, y)) in positions)
        {
            AppendNode(svg, node, x, y);
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static List<GraphEdge> WaitEdges(LogView view, IReadOnlyList<WaitLink> cycle)
    {
        var edges = new List<GraphEdge>();
        var cycleWaits = cycle.Where(c => c.Resource is not null).Select(c => (c.Waiter, c.Resource!)).ToHashSet();
        var cycleAwaits = cycle.Where(c => c.Resource is null).Select(c => (c.Waiter, c.Holder)).ToHashSet();
        foreach (var task in view.State.Tasks.Values.Where(t => !t.Ended && t.Blocked is not null))
        {
            var name = view.TaskName(task.Id);
            switch (task.Blocked)
            {
                case WaitingForResource w:
                    var resource = "R:" + view.ResourceName(w.Resource);
                    edges.Add(new("T:" + name, resource, "waits", cycleWaits.Contains((name, view.ResourceName(w.Resource)))));
                    break;
                case AwaitingTasks a:
                    foreach (var target in a.Targets.Where(t => t > 0 && !view.Ended(t) && view.Logical(t) != view.Logical(task.Id)))
                    {
                        var targetName = view.TaskName(target);
                        edges.Add(new("T:" + name, "T:" + targetName, "awaits", cycleAwaits.Contains((name, targetName))));
                    }

                    break;
            }
        }

        return edges;
    }

    private static List<GraphEdge> HeldByEdges(LogView view, IReadOnlyList<WaitLink> cycle)
    {
        var edges = new List<GraphEdge>();
        var cycleHolds = cycle.Where(c => c.Resource is not null).Select(c => (c.Resource!, c.Holder)).ToHashSet();
        foreach (var resource in view.State.Resources.Values)
        {
            foreach (var holder in resource.HeldBy)
            {
                var resourceName = view.ResourceName(resource.Info.Id);
                var holderName = view.TaskName(holder);
                edges.Add(new("R:" + resourceName, "T:" + holderName, view.Ended(holder) ? "held by (finished)" : "held by", cycleHolds.Contains((resourceName, holderName))));
            }
        }

        return edges;
    }

    private static Dictionary<string, (double X, double Y)> OnACircle(List<string> nodes)
    {
        var center = GraphSize / 2.0;
        var radius = nodes.Count == 1 ? 0 : (GraphSize / 2.0) - 90;
        return nodes.Select((n, i) => (n, X: center + (radius * Math.Cos((2 * Math.PI * i / nodes.Count) - (Math.PI / 2))), Y: center + (radius * Math.Sin((2 * Math.PI * i / nodes.Count) - (Math.PI / 2)))))
            .ToDictionary(p => p.n, p => (p.X, p.Y));
    }

    private static void AppendEdge(StringBuilder svg, GraphEdge edge, Dictionary<string, (double X, double Y)> positions)
    {
        var (from, to, label, cycle) = edge;
        var (x1, y1) = positions[from];
        var (x2, y2) = positions[to];
        var length = Math.Max(1, Math.Sqrt(((x2 - x1) * (x2 - x1)) + ((y2 - y1) * (y2 - y1))));
        var (ex, ey) = (x2 - ((x2 - x1) / length * 48), y2 - ((y2 - y1) / length * 22));
        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"edge{(cycle ? " cycle-edge" : "")}\"><line x1=\"{x1:0.0}\" y1=\"{y1:0.0}\" x2=\"{ex:0.0}\" y2=\"{ey:0.0}\" stroke=\"{(cycle ? "#c62828" : "#777")}\" stroke-width=\"{(cycle ? 3 : 1.5)}\" marker-end=\"url(#{(cycle ? "arrow-red" : "arrow")})\"/>")
           .Append(CultureInfo.InvariantCulture, $"<text x=\"{(x1 + ex) / 2:0.0}\" y=\"{((y1 + ey) / 2) - 4:0.0}\" fill=\"{(cycle ? "#c62828" : "#555")}\" text-anchor=\"middle\">{E(label)}</text></g>");
    }

    private static void AppendNode(StringBuilder svg, string node, double x, double y)
    {
        var isTask = node.StartsWith("T:", StringComparison.Ordinal);
        var name = Abbreviate(node[2..], 26);
        svg.Append("<g class=\"").Append(isTask ? "node-task" : "node-resource").Append("\"><title>").Append(E(node[2..])).Append("</title>");
        svg.Append(isTask
            ? string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{x - 80:0.0}\" y=\"{y - 16:0.0}\" width=\"160\" height=\"32\" rx=\"6\" fill=\"#e3f2fd\" stroke=\"#1565c0\"/>")
            : string.Create(CultureInfo.InvariantCulture, $"<ellipse cx=\"{x:0.0}\" cy=\"{y:0.0}\" rx=\"82\" ry=\"18\" fill=\"#fff3e0\" stroke=\"#ef6c00\"/>"));
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.0}\" y=\"{y + 4:0.0}\" text-anchor=\"middle\">{E(name)}</text></g>");
    }

    /// <summary>Escapes a sentence, showing its `names` as code.</summary>
    private static string Sentence(string sentence)
    {
        var parts = sentence.Split('`');
        var text = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            text.Append(i % 2 == 1 ? $"<code>{E(parts[i])}</code>" : E(parts[i]));
        }

        return text.ToString();
    }

    private static string E(string? text)
    {
        var builder = new StringBuilder();
        foreach (var c in text ?? "")
        {
            builder.Append(char.IsControl(c) && c is not '\n' and not '\t' ? ' ' : c);
        }

        return WebUtility.HtmlEncode(builder.ToString());
    }

    private static string Abbreviate(string text, int max = 16) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Anchor(string test) => "t-" + new string(test.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());

    // A node is named "T:" + a task's name or "R:" + a resource's.
    private readonly record struct GraphEdge(string From, string To, string Label, bool Cycle);
}
