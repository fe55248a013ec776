using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness;

/// <summary>Writes a failure's folder: the reproducible trace, Coyote's log, <c>failure.json</c> and <c>report.md</c>.</summary>
public static class FailureReport
{
    /// <summary>The trace's file name in a failure folder.</summary>
    public const string TraceFile = "failure.trace";

    /// <summary>The JSON facts' file name in a failure folder.</summary>
    public const string JsonFile = "failure.json";

    /// <summary>The file, in a failure folder, of the plan a directed schedule was built from.</summary>
    public const string PlanFile = "directed.json";

    /// <summary>The readable report's file name in a failure folder.</summary>
    public const string MarkdownFile = "report.md";

    /// <summary>Writes the folder under <paramref name="runDir"/> and returns its path.</summary>
    public static string Write(string runDir, TestCase test, TestOutcome outcome, IterationLog? log, string trace, string readable, MinimalRun? minimalRun = null, DirectedPlan? plan = null)
    {
        var folder = RunFolder.Unique(runDir, SafeName($"{test.Method.DeclaringType?.Name}.{test.Method.Name}"));
        var tracePath = Path.Combine(folder, TraceFile);
        if (plan is not null)
        {
            // The schedule was built from a predicted cycle: its replays build it again from this plan.
            AtomicFile.Write(Path.Combine(folder, PlanFile), plan.ToJson());
        }

        // The trace first: it is what reproduces the bug.
        AtomicFile.Write(tracePath, WithTestName(trace, test.Name));
        if (minimalRun is not null && outcome.Minimal is { } minimal)
        {
            AtomicFile.Write(Path.Combine(folder, minimal.Trace), WithTestName(minimalRun.Trace, test.Name));
        }

        if (!string.IsNullOrWhiteSpace(readable))
        {
            AtomicFile.Write(Path.Combine(folder, "coyote.log"), readable);
        }

        var minimalPath = outcome.Minimal is { } m ? Path.Combine(folder, m.Trace) : null;
        var document = Document(test, outcome, Commands(folder, test.Assembly.Path, tracePath, test.Name, plan is null ? null : Path.Combine(folder, PlanFile))) with
        {
            Uncontrolled = outcome.Uncontrolled,
            Reproducible = outcome.Uncontrolled.Count == 0 && outcome.Kind != FailureKind.Uncontrolled,
            Log = log is null ? null : LogDocument.From(log),
            MinimalLog = minimalRun?.Log is { } shortest ? LogDocument.From(shortest) : null,
            Schedule = outcome.Schedule,
            Minimal = outcome.Minimal,
            MinimalReplay = minimalPath is null ? null : Commands(minimalPath, test.Assembly.Path, minimalPath, test.Name),
        };
        AtomicFile.Write(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(document, Json.Options));
        AtomicFile.Write(Path.Combine(folder, MarkdownFile), RenderMarkdown(document, log, minimalRun?.Log));
        return folder;
    }

    /// <summary>Writes the folder of a predicted (unconfirmed) lock-order deadlock: the facts and the report, no trace.</summary>
    public static string WritePrediction(string runDir, TestCase test, TestOutcome outcome)
    {
        var folder = RunFolder.Unique(runDir, SafeName($"{test.Method.DeclaringType?.Name}.{test.Method.Name}"));
        const string nothing = "(no schedule deadlocked: nothing to replay)";
        var document = Document(test, outcome, new ReplayCommands(nothing, nothing)) with { Trace = "", Reproducible = false };
        AtomicFile.Write(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(document, Json.Options));
        AtomicFile.Write(Path.Combine(folder, MarkdownFile), RenderMarkdown(document, null));
        return folder;
    }

    private static FailureDocument Document(TestCase test, TestOutcome outcome, ReplayCommands replay)
    {
        var diagnosis = outcome.Diagnosis!;
        return new FailureDocument
        {
            Test = test.Name,
            Assembly = test.Assembly.Path,
            SourceAssembly = test.Assembly.SourcePath,
            Kind = diagnosis.Kind,
            Expected = test.Expected,
            Sentence = diagnosis.Sentence,
            Consequences = diagnosis.Consequences,
            Resources = diagnosis.Resources,
            Cycle = diagnosis.Cycle,
            Holdings = diagnosis.Holdings,
            Waitings = diagnosis.Waitings,
            Message = diagnosis.Message,
            Iteration = outcome.FirstBugIteration ?? 0,
            Seed = outcome.Seed,
            Strategy = outcome.Strategy,
            Replay = replay,
            PredictedAt = outcome.PredictedAt,
        };
    }

    /// <summary>Reads a failure folder's facts.</summary>
    public static FailureDocument Read(string folder)
    {
        var path = Path.Combine(folder, JsonFile);
        if (!File.Exists(path))
        {
            throw new HarnessException($"No {JsonFile} in {folder}: not a Systematic failure folder.");
        }

        try
        {
            return JsonSerializer.Deserialize<FailureDocument>(File.ReadAllText(path), Json.Options)
                ?? throw new HarnessException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new HarnessException($"{path} is not valid failure JSON: {e.Message}");
        }
    }

    /// <summary>
    /// Runs stock Coyote's command-line tool from anywhere, with no tool manifest: the .NET 10 SDK fetches the exact
    /// version once and runs it on the newer runtime (it targets net8.0).
    /// </summary>
    public static readonly string StockCoyote = $"dotnet tool exec Microsoft.Coyote.CLI@{Replayer.CoyoteVersion} --allow-roll-forward -y --";

    /// <summary>Gets the exact replay commands for a failure.</summary>
    public static ReplayCommands Commands(string folder, string assembly, string trace, string test, string? plan = null)
    {
        var cli = CoyoteCli.FindManifestRoot() is { } root && File.Exists(Path.Combine(root, "src", "Systematic.Cli", "Systematic.Cli.csproj"))
            ? $"dotnet run --project {Quote(Path.Combine(root, "src", "Systematic.Cli"))} --"
            : "systematic";
        return new ReplayCommands(
            $"{cli} replay {Quote(folder)}",
            $"{(plan is null ? "" : $"{DirectedPlan.Variable}={Quote(plan)} ")}{StockCoyote} replay {Quote(assembly)} {Quote(trace)} -m {test}");
    }

    private static string Preemptions(int count) => BoundedCoverage.Preemptions(count);

    /// <summary>Renders <c>report.md</c>.</summary>
    public static string RenderMarkdown(FailureDocument f, IterationLog? log, IterationLog? minimalLog = null)
    {
        var md = new StringBuilder();
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

        md.AppendLine("| | |").AppendLine("|---|---|");
        md.Append("| test | ").Append(Markdown.Code(f.Test)).AppendLine(" |");
        md.Append("| kind | ").Append(f.Kind).Append(f.Expected is { } e ? $" (declared: {e})" : " (no kind declared)").AppendLine(" |");
        md.Append("| found at | iteration ").Append(f.Iteration.ToString(CultureInfo.InvariantCulture)).Append(", seed ").Append(f.Seed.ToString(CultureInfo.InvariantCulture)).Append(", strategy ").Append(f.Strategy).AppendLine(" |");
        md.Append("| assembly run | ").Append(Markdown.Code(f.Assembly)).AppendLine(" |");
        md.AppendLine();

        md.AppendLine("## Who holds what at the failure").AppendLine();
        if (f.Holdings.Count == 0)
        {
            md.AppendLine("Nobody holds a permit.").AppendLine();
        }
        else
        {
            md.AppendLine("| resource | held by | permits | taken at | holder finished |").AppendLine("|---|---|---|---|---|");
            foreach (var h in f.Holdings)
            {
                md.Append("| ").Append(Markdown.Code(h.Resource)).Append(" | ").Append(Markdown.Code(h.Task)).Append(" | ").Append(h.Permits.ToString(CultureInfo.InvariantCulture))
                  .Append(" | ").Append(Markdown.Text(LogView.Short(h.Site))).Append(" | ").Append(h.TaskEnded ? "yes" : "no").AppendLine(" |");
            }

            md.AppendLine();
        }

        md.AppendLine("## Who waits for what").AppendLine();
        if (f.Waitings.Count == 0)
        {
            md.AppendLine("Nobody is blocked.").AppendLine();
        }
        else
        {
            md.AppendLine("| task | waits | at |").AppendLine("|---|---|---|");
            foreach (var w in f.Waitings)
            {
                md.Append("| ").Append(Markdown.Code(w.Task)).Append(" | ").Append(Markdown.Sentence(w.WaitsFor)).Append(" | ").Append(Markdown.Text(LogView.Short(w.Site))).AppendLine(" |");
            }

            md.AppendLine();
        }

        if (f.Cycle.Count > 0)
        {
            md.AppendLine("## Wait-for cycle").AppendLine();
            foreach (var link in f.Cycle)
            {
                md.Append("- ").Append(Markdown.Code(link.Waiter)).Append(link.Resource is null ? " awaits " : $" waits for {Markdown.Code(link.Resource)}, held by ")
                  .Append(Markdown.Code(link.Holder)).Append(" (at ").Append(Markdown.Text(LogView.Short(link.Site))).AppendLine(")");
            }

            md.AppendLine();
        }

        if (minimalLog is not null && f.Minimal is { } least)
        {
            // The schedule a person can follow first: the fewest preemptions; the one found stays below.
            AppendTimeline(md, minimalLog, $"Timeline of the minimal schedule ({Preemptions(least.Stats.Preemptions)}, `{least.Trace}`)");
        }

        if (log is not null)
        {
            AppendTimeline(md, log, minimalLog is not null ? "Timeline of the schedule found (`failure.trace`)" : "Timeline");
            AppendSources(md, f);
        }

        if (f.Schedule is { } schedule)
        {
            md.AppendLine("## Schedule").AppendLine();
            md.Append(CultureInfo.InvariantCulture, $"The failing schedule found has {schedule.Steps} steps, {schedule.Switches} context switches and about {Preemptions(schedule.Preemptions)} (switches away from a task that could have gone on, read back from the recorded lock, semaphore and task steps).");
            md.Append(f.Minimal switch
            {
                null => $" No schedule with the same failure was found in the search for the fewest preemptions (every schedule with up to {Minimizer.MaxBound} preemptions, at most {Minimizer.Budget:N0}): this {f.Kind} needs at most {Preemptions(schedule.Preemptions)}.",
                { Minimal: true, Stats.Preemptions: 0 } m => string.Create(CultureInfo.InvariantCulture, $" **This {f.Kind} needs no preemption**: `{m.Trace}` reaches it without ever switching away from a task that could go on ({m.Stats.Steps} steps)."),
                { Minimal: true } m => string.Create(CultureInfo.InvariantCulture, $" **This {f.Kind} needs exactly {Preemptions(m.Stats.Preemptions)}**: `{m.Trace}` ({m.Stats.Steps} steps); every schedule with fewer ({m.RunWithFewer:N0} of them) was run without it."),
                { } m => string.Create(CultureInfo.InvariantCulture, $" **This {f.Kind} needs at most {Preemptions(m.Stats.Preemptions)}**: `{m.Trace}` ({m.Stats.Steps} steps); none was found with fewer than {Preemptions(m.SearchedBelow)} within the budget ({m.Iterations:N0} schedules)."),
            });
            md.AppendLine().AppendLine();
            var story = f.Minimal is { } shortest ? shortest.Stats.Narration : schedule.Narration;
            if (story.Count > 0)
            {
                md.AppendLine(f.Minimal is not null ? "Its preemptions, in the minimal schedule:" : "Its preemptions:").AppendLine();
                foreach (var line in story.Take(10))
                {
                    md.Append("- ").AppendLine(line);
                }

                md.AppendLine(story.Count > 10 ? $"- … and {story.Count - 10} more" : "").AppendLine();
            }

            if (f.MinimalReplay is { } minimalReplay)
            {
                md.AppendLine("Replay the minimal schedule:").AppendLine();
                md.AppendLine(Markdown.Block(minimalReplay.Systematic + "\n" + minimalReplay.Coyote, "bash")).AppendLine();
            }
        }

        if (f.PredictedAt is { } predicted)
        {
            md.Append(CultureInfo.InvariantCulture, $"Lock-order prediction saw a potential cycle at iteration {predicted}.").AppendLine().AppendLine();
        }

        md.AppendLine("## Replay").AppendLine();
        md.AppendLine("With Systematic (re-runs the schedule and checks the same failure happens again; add `--break` to stop in a debugger):").AppendLine();
        md.AppendLine(Markdown.Block(f.Replay.Systematic, "bash")).AppendLine();
        md.AppendLine("With stock Coyote, on the instrumented copy that ran:").AppendLine();
        md.AppendLine(Markdown.Block(f.Replay.Coyote, "bash")).AppendLine();
        md.AppendLine("## Message").AppendLine();
        md.AppendLine(Markdown.Block(f.Message));
        return md.ToString();
    }

    private static void AppendTimeline(StringBuilder md, IterationLog log, string title)
    {
        var view = new LogView(log);
        var events = view.TimelineEvents().ToList();
        const int Max = 200;
        md.Append("## ").AppendLine(title).AppendLine();
        md.AppendLine("```mermaid").Append(MermaidTimeline.Render(view)).AppendLine("```").AppendLine();
        if (view.QuietInternals.Count > 0)
        {
            md.Append(CultureInfo.InvariantCulture, $"Left out: {view.QuietInternals.Count} lock(s) inside code without source lines (").Append(string.Join(", ", view.QuietInternals.Take(4).Select(r => Markdown.Code(view.ResourceName(r)))))
                .Append(view.QuietInternals.Count > 4 ? ", ..." : "").AppendLine("), each taken and released with no task waiting; `failure.json` has every event.").AppendLine();
        }

        if (events.Count > Max)
        {
            md.Append("The last ").Append(Max).Append(" of ").Append(events.Count).AppendLine(" events.").AppendLine();
            events = events.Skip(events.Count - Max).ToList();
        }

        md.AppendLine("| step | task | event | resource | free after | at |").AppendLine("|---|---|---|---|---|---|");
        foreach (var e in events)
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

        md.AppendLine();
    }

    private static void AppendSources(StringBuilder md, FailureDocument f)
    {
        var lines = SourceLines(f);
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

    /// <summary>Gets the source lines a failure involves (its cycle, waits, holdings and over-releases; at most 12), each with its text when the file is here.</summary>
    internal static IReadOnlyList<(SourceSite Site, string? Text)> SourceLines(FailureDocument f) =>
        f.Cycle.Select(c => c.Site).Concat(f.Waitings.Select(w => w.Site)).Concat(f.Holdings.Select(h => h.Site))
            .Concat(f.Log?.Events.Where(e => e.Kind == EventKind.OverRelease).Select(e => e.Site) ?? [])
            .Select(SourceSite.Parse).OfType<SourceSite>().Distinct().Take(12)
            .Select(site => (site, ReadLine(site.File, site.Line)))
            .ToList();

    private static string? ReadLine(string file, int line)
    {
        try
        {
            return File.Exists(file) ? File.ReadLines(file).Skip(line - 1).FirstOrDefault() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string WithTestName(string trace, string test)
    {
        try
        {
            if (JsonNode.Parse(trace) is JsonObject json)
            {
                json["TestName"] = test;
                return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            }
        }
        catch (JsonException)
        {
            // Keep Coyote's text as it is.
        }

        return trace;
    }

    internal static string SafeName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        var safe = new string(chars).Trim('.');
        if (safe.Length > 80)
        {
            safe = safe[..80];
        }

        return safe.Length == 0 ? "test" : safe;
    }

    private static string Quote(string path) => path.Contains(' ', StringComparison.Ordinal) || path.Contains('\'', StringComparison.Ordinal) ? $"\"{path}\"" : path;
}

/// <summary>The minimal schedule's trace and recording, for its files and its timeline.</summary>
/// <param name="Trace">The trace.</param>
/// <param name="Log">The recording of its iteration.</param>
public sealed record MinimalRun(string Trace, IterationLog? Log);
