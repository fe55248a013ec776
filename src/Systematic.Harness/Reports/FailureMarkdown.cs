using System.Globalization;
using System.Text;
using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness.Reports;

/// <summary>
/// Renders a failure folder's <c>report.md</c>: what happened, who holds and waits for what, the wait-for cycle, the
/// timelines, the schedule and its preemptions, and how to replay it.
/// </summary>
internal static class FailureMarkdown
{
    /// <summary>The most events a timeline shows (the last ones); <c>failure.json</c> has every event.</summary>
    private const int MaxTimelineEvents = 200;

    /// <summary>The most locks without source lines named in the note on what a timeline leaves out.</summary>
    private const int MaxQuietLocksNamed = 4;

    /// <summary>Renders <c>report.md</c>.</summary>
    public static string Render(FailureDocument f, IterationLog? log, IterationLog? minimalLog = null)
    {
        var md = new StringBuilder();
        AppendHeadline(md, f);
        AppendFacts(md, f);
        AppendHoldings(md, f.Holdings);
        AppendWaitings(md, f.Waitings);
        AppendCycle(md, f.Cycle);
        if (minimalLog is not null && f.Minimal is { } least)
        {
            // The schedule a person can follow first: the fewest preemptions; the one found stays below.
            AppendTimeline(md, minimalLog, FailureReport.MinimalTitle(least));
        }

        if (log is not null)
        {
            AppendTimeline(md, log, minimalLog is not null ? FailureReport.FoundTitle : "Timeline");
            AppendSources(md, f);
        }

        if (f.Schedule is { } schedule)
        {
            AppendSchedule(md, f, schedule);
        }

        if (f.PredictedAt is { } predicted)
        {
            md.Append(CultureInfo.InvariantCulture, $"Lock-order prediction saw a potential cycle at iteration {predicted}.").AppendLine().AppendLine();
        }

        AppendReplay(md, f.Replay);
        md.AppendLine("## Message").AppendLine();
        md.AppendLine(Markdown.Block(f.Message));
        return md.ToString();
    }

    /// <summary>The title, the diagnosis, its consequences, and a warning when the trace may not replay.</summary>
    private static void AppendHeadline(StringBuilder md, FailureDocument f)
    {
        md.Append("# ").Append(f.Kind).Append(": ").AppendLine(Markdown.Text(f.Test));
        md.AppendLine();
        md.AppendLine(Markdown.Sentence(f.Sentence));
        md.AppendLine();
        foreach (var consequence in f.Consequences)
        {
            md.Append("- Then: ").AppendLine(Markdown.Sentence(consequence));
        }

        if (f.Consequences.Count > 0)
        {
            md.AppendLine();
        }

        if (!f.Reproducible)
        {
            md.AppendLine("> **Warning:** the run hit calls Coyote does not control, so this trace is not guaranteed to reproduce:");
            foreach (var call in f.Uncontrolled)
            {
                md.Append("> - ").AppendLine(Markdown.Code(call));
            }

            md.AppendLine();
        }
    }

    /// <summary>The table of the test, its kind, where it was found and the assembly that ran.</summary>
    private static void AppendFacts(StringBuilder md, FailureDocument f)
    {
        md.AppendLine("| | |").AppendLine("|---|---|");
        md.Append("| test | ").Append(Markdown.Code(f.Test)).AppendLine(" |");
        md.Append("| kind | ").Append(f.Kind).Append(f.Expected is { } e ? $" (declared: {e})" : " (no kind declared)").AppendLine(" |");
        md.Append("| found at | iteration ").Append(f.Iteration.ToString(CultureInfo.InvariantCulture)).Append(", seed ").Append(f.Seed.ToString(CultureInfo.InvariantCulture)).Append(", strategy ").Append(f.Strategy).AppendLine(" |");
        md.Append("| assembly run | ").Append(Markdown.Code(f.Assembly)).AppendLine(" |");
        md.AppendLine();
    }

    private static void AppendHoldings(StringBuilder md, IReadOnlyList<Holding> holdings)
    {
        md.AppendLine("## Who holds what at the failure").AppendLine();
        if (holdings.Count == 0)
        {
            md.AppendLine("Nobody holds a permit.").AppendLine();
            return;
        }

        md.AppendLine("| resource | held by | permits | taken at | holder finished |").AppendLine("|---|---|---|---|---|");
        foreach (var h in holdings)
        {
            md.Append("| ").Append(Markdown.Code(h.Resource)).Append(" | ").Append(Markdown.Code(h.Task)).Append(" | ").Append(h.Permits.ToString(CultureInfo.InvariantCulture))
              .Append(" | ").Append(Markdown.Text(LogView.Short(h.Site))).Append(" | ").Append(h.TaskEnded ? "yes" : "no").AppendLine(" |");
        }

        md.AppendLine();
    }

    private static void AppendWaitings(StringBuilder md, IReadOnlyList<Waiting> waitings)
    {
        md.AppendLine("## Who waits for what").AppendLine();
        if (waitings.Count == 0)
        {
            md.AppendLine("Nobody is blocked.").AppendLine();
            return;
        }

        md.AppendLine("| task | waits | at |").AppendLine("|---|---|---|");
        foreach (var w in waitings)
        {
            md.Append("| ").Append(Markdown.Code(w.Task)).Append(" | ").Append(Markdown.Sentence(w.WaitsFor)).Append(" | ").Append(Markdown.Text(LogView.Short(w.Site))).AppendLine(" |");
        }

        md.AppendLine();
    }

    private static void AppendCycle(StringBuilder md, IReadOnlyList<WaitLink> cycle)
    {
        if (cycle.Count == 0)
        {
            return;
        }

        md.AppendLine("## Wait-for cycle").AppendLine();
        foreach (var link in cycle)
        {
            md.Append("- ").Append(Markdown.Code(link.Waiter)).Append(link.Resource is null ? " awaits " : $" waits for {Markdown.Code(link.Resource)}, held by ")
              .Append(Markdown.Code(link.Holder)).Append(" (at ").Append(Markdown.Text(LogView.Short(link.Site))).AppendLine(")");
        }

        md.AppendLine();
    }

    /// <summary>The failing schedule's counts, what the search for the fewest preemptions found, its preemptions told one by one, and the minimal schedule's replay.</summary>
    private static void AppendSchedule(StringBuilder md, FailureDocument f, ScheduleStats schedule)
    {
        md.AppendLine("## Schedule").AppendLine();
        var (found, headline, tail) = FailureReport.ScheduleStatement(f, schedule);
        md.Append(found).Append(' ').Append(headline.Length > 0 ? $"**{headline}**" : "").Append(tail);
        md.AppendLine().AppendLine();
        var story = FailureReport.Narration(f, schedule);
        if (story.Count > 0)
        {
            md.AppendLine(f.Minimal is not null ? "Its preemptions, in the minimal schedule:" : "Its preemptions:").AppendLine();
            foreach (var line in story.Take(FailureReport.MaxNarration))
            {
                md.Append("- ").AppendLine(line);
            }

            md.AppendLine(story.Count > FailureReport.MaxNarration ? $"- … and {story.Count - FailureReport.MaxNarration} more" : "").AppendLine();
        }

        if (f.MinimalReplay is { } minimalReplay)
        {
            md.AppendLine("Replay the minimal schedule:").AppendLine();
            md.AppendLine(Markdown.Block(minimalReplay.Coyote is { } stock ? minimalReplay.Systematic + "\n" + stock : minimalReplay.Systematic, "bash")).AppendLine();
        }
    }

    private static void AppendReplay(StringBuilder md, ReplayCommands replay)
    {
        md.AppendLine("## Replay").AppendLine();
        if (replay.Coyote is not { } stock)
        {
            // Only the test runner can run this test: it replays when run again with the folder (under a debugger, it stops at the failure).
            md.AppendLine("Run the test again with this failure to replay (run it under a debugger to stop at the failure):").AppendLine();
            md.AppendLine(Markdown.Block(replay.Systematic, "bash")).AppendLine();
            md.Append("Stock Coyote cannot replay it: ").Append(replay.NoCoyoteBecause ?? "it cannot run this test").AppendLine(".").AppendLine();
            return;
        }

        md.AppendLine("With Systematic (re-runs the schedule and checks the same failure happens again; add `--break` to stop in a debugger):").AppendLine();
        md.AppendLine(Markdown.Block(replay.Systematic, "bash")).AppendLine();
        md.AppendLine("With stock Coyote, on the instrumented copy that ran:").AppendLine();
        md.AppendLine(Markdown.Block(stock, "bash")).AppendLine();
    }

    /// <summary>A Mermaid timeline and the table of the last <see cref="MaxTimelineEvents"/> events.</summary>
    private static void AppendTimeline(StringBuilder md, IterationLog log, string title)
    {
        var view = new LogView(log);
        var events = view.TimelineEvents().ToList();
        md.Append("## ").AppendLine(title).AppendLine();
        md.AppendLine("```mermaid").Append(MermaidTimeline.Render(view)).AppendLine("```").AppendLine();
        if (view.QuietInternals.Count > 0)
        {
            md.Append(CultureInfo.InvariantCulture, $"Left out: {view.QuietInternals.Count} lock(s) inside code without source lines (").Append(string.Join(", ", view.QuietInternals.Take(MaxQuietLocksNamed).Select(r => Markdown.Code(view.ResourceName(r)))))
                .Append(view.QuietInternals.Count > MaxQuietLocksNamed ? ", ..." : "").AppendLine("), each taken and released with no task waiting; `failure.json` has every event.").AppendLine();
        }

        if (events.Count > MaxTimelineEvents)
        {
            md.Append("The last ").Append(MaxTimelineEvents).Append(" of ").Append(events.Count).AppendLine(" events.").AppendLine();
            events = events.Skip(events.Count - MaxTimelineEvents).ToList();
        }

        md.AppendLine("| step | task | event | resource | free after | at |").AppendLine("|---|---|---|---|---|---|");
        foreach (var e in events)
        {
            AppendEventRow(md, view, e);
        }

        md.AppendLine();
    }

    private static void AppendEventRow(StringBuilder md, LogView view, RecordedEvent e)
    {
        var what = e.Kind switch
        {
            EventKind.Await => "awaits " + string.Join(", ", (e.Targets ?? []).Select(t => view.TaskName(t))),
            EventKind.Release when e.Amount != 1 => $"release ×{e.Amount}",
            EventKind.WaitForPulse => "Monitor.Wait",
            EventKind.Pulse or EventKind.PulseAll => $"{(e.Kind == EventKind.Pulse ? "Pulse" : "PulseAll")}: woke {((e.Targets ?? []).Count == 0 ? "no one" : string.Join(", ", (e.Targets ?? []).Select(t => view.TaskName(t))))}",
            _ => e.Kind.ToString().ToLowerInvariant(),
        };
        md.Append("| ").Append(e.Seq.ToString(CultureInfo.InvariantCulture)).Append(" | ").Append(Markdown.Code(view.TaskName(e.Task))).Append(" | ").Append(Markdown.Text(what))
          .Append(" | ").Append(e.Resource > 0 ? Markdown.Code(view.ResourceName(e.Resource)) : "").Append(" | ")
          .Append(e.Resource > 0 && e.Count >= 0 ? e.Count.ToString(CultureInfo.InvariantCulture) : "").Append(" | ")
          .Append(Markdown.Text(e.Site is null ? "" : LogView.Short(e.Site))).AppendLine(" |");
    }

    private static void AppendSources(StringBuilder md, FailureDocument f)
    {
        var lines = FailureReport.SourceLines(f);
        if (lines.Count == 0)
        {
            return;
        }

        md.AppendLine("## Source lines").AppendLine();
        foreach (var (site, text) in lines)
        {
            md.Append("- ").Append(Markdown.Code($"{site.File}:{site.Line}")).Append(" in ").Append(Markdown.Code(site.Method));
            md.AppendLine(text is null ? "" : ": " + Markdown.Code(text.Trim()));
        }

        md.AppendLine();
    }
}
