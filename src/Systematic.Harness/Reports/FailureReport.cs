using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness.Reports;

/// <summary>Writes a failure's folder: the reproducible trace, Coyote's log, <c>failure.json</c> and <c>report.md</c>.</summary>
internal static class FailureReport
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
    public static string Write(string runDir, TestCase test, TestOutcome outcome, IterationLog? log, string trace, string readable, MinimalRun? minimalRun = null, DirectedPlan? plan = null, string tool = DefaultTool)
    {
        var folder = RunFolder.Unique(runDir, SafeName(test.FolderName));
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
        var document = Document(test, outcome, ReplayOf(test, folder, tracePath, plan is null ? null : Path.Combine(folder, PlanFile), tool)) with
        {
            Uncontrolled = outcome.Uncontrolled,
            Reproducible = outcome.Uncontrolled.Count == 0 && outcome.Kind != FailureKind.Uncontrolled,
            Log = log is null ? null : LogDocument.From(log),
            MinimalLog = minimalRun?.Log is { } shortest ? LogDocument.From(shortest) : null,
            Schedule = outcome.Schedule,
            Minimal = outcome.Minimal,
            MinimalReplay = minimalPath is null ? null : ReplayOf(test, minimalPath, minimalPath, null, tool),
        };
        AtomicFile.Write(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(document, Json.Options));
        AtomicFile.Write(Path.Combine(folder, MarkdownFile), FailureMarkdown.Render(document, log, minimalRun?.Log));
        return folder;
    }

    /// <summary>Writes the folder of a predicted (unconfirmed) lock-order deadlock: the facts and the report, no trace.</summary>
    public static string WritePrediction(string runDir, TestCase test, TestOutcome outcome)
    {
        var folder = RunFolder.Unique(runDir, SafeName(test.FolderName));
        const string nothing = "(no schedule deadlocked: nothing to replay)";
        var document = Document(test, outcome, new ReplayCommands(nothing, nothing)) with { Trace = "", Reproducible = false };
        AtomicFile.Write(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(document, Json.Options));
        AtomicFile.Write(Path.Combine(folder, MarkdownFile), FailureMarkdown.Render(document, null));
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

    /// <summary>The command that runs Systematic when whoever writes a report does not say (an installed tool).</summary>
    public const string DefaultTool = "systematic";

    /// <summary>Gets the exact replay commands for a failure; <paramref name="tool"/> is how the reader runs Systematic (<see cref="DefaultTool"/>, or what the command line that ran knows: <c>dotnet run --project ... --</c>).</summary>
    public static ReplayCommands Commands(string folder, string assembly, string trace, string test, string? plan = null, string tool = DefaultTool)
    {
        return new ReplayCommands(
            $"{tool} replay {Quote(folder)}",
            $"{(plan is null ? "" : $"{DirectedPlan.Variable}={Quote(plan)} ")}{StockCoyote} replay {Quote(assembly)} {Quote(trace)} -m {test}");
    }

    /// <summary>The environment variable that makes a test run by <c>dotnet test</c> replay a failure folder (or <c>last</c>) instead of exploring.</summary>
    public const string ReplayVariable = "SYSTEMATIC_REPLAY";

    /// <summary>
    /// The replay commands of <paramref name="test"/>'s failure at <paramref name="folder"/> (or of one trace in it):
    /// Systematic's and stock Coyote's, or, when only the test runner can run the test (a delegate passed to
    /// <c>Explore.RunAsync</c>, a class made with the runner's constructor arguments), the test run again to replay it.
    /// </summary>
    internal static ReplayCommands ReplayOf(TestCase test, string folder, string trace, string? plan = null, string tool = DefaultTool) =>
        test.Body is not null ? RunnerCommands(folder, test.Name, "the body is a delegate passed to Explore.RunAsync, which `coyote replay -m` cannot name; a [SystematicFact] method replays in stock Coyote")
        : test.Instance is not null ? RunnerCommands(folder, test.Name, $"`systematic replay` and `coyote replay` make the test's instance with a public parameterless constructor, which {test.Method.DeclaringType?.Name} does not have")
        : Commands(folder, test.Assembly.Path, trace, test.Name, plan, tool);

    /// <summary>The replay of a test only its test runner can run: the test, run again with the folder to replay; no stock Coyote command, and why.</summary>
    public static ReplayCommands RunnerCommands(string folder, string test, string why) => new(
        $"{ReplayVariable}={Quote(folder)} dotnet test --filter \"FullyQualifiedName={test}\"",
        null)
    {
        NoCoyoteBecause = why,
    };

    private static string Preemptions(int count) => BoundedCoverage.Preemptions(count);

    /// <summary>The most preemptions narrated, one line each.</summary>
    internal const int MaxNarration = 10;

    /// <summary>The title of the minimal schedule's timeline: its preemptions and its trace file (the trace name in backticks).</summary>
    internal static string MinimalTitle(MinimalSchedule least) => $"Timeline of the minimal schedule ({Preemptions(least.Stats.Preemptions)}, `{least.Trace}`)";

    /// <summary>The title of the timeline of the schedule found, when the minimal one is shown before it.</summary>
    internal const string FoundTitle = "Timeline of the schedule found (`failure.trace`)";

    /// <summary>
    /// What a failure's schedule says, in three parts a report styles as it can: the schedule found (its counts), the
    /// headline about the fewest preemptions ("This LockOrderDeadlock needs exactly 1 preemption", empty when no minimal
    /// schedule was found), and the rest. Names are in backticks.
    /// </summary>
    internal static (string Found, string Headline, string Tail) ScheduleStatement(FailureDocument f, ScheduleStats schedule)
    {
        var found = string.Create(CultureInfo.InvariantCulture, $"The failing schedule found has {schedule.Steps} steps, {schedule.Switches} context switches and about {Preemptions(schedule.Preemptions)} (switches away from a task that could have gone on, read back from the recorded lock, semaphore and task steps).");
        return f.Minimal switch
        {
            null => (found, "", string.Create(CultureInfo.InvariantCulture, $"No schedule with the same failure was found in the search for the fewest preemptions (every schedule with up to {Minimizer.MaxBound} preemptions, at most {Minimizer.Budget:N0}): this {f.Kind} needs at most {Preemptions(schedule.Preemptions)}.")),
            { Minimal: true, Stats.Preemptions: 0 } m => (found, $"This {f.Kind} needs no preemption", string.Create(CultureInfo.InvariantCulture, $": `{m.Trace}` reaches it without ever switching away from a task that could go on ({m.Stats.Steps} steps).")),
            { Minimal: true } m => (found, $"This {f.Kind} needs exactly {Preemptions(m.Stats.Preemptions)}", string.Create(CultureInfo.InvariantCulture, $": `{m.Trace}` ({m.Stats.Steps} steps); every schedule with fewer ({m.RunWithFewer:N0} of them) was run without it.")),
            { } m => (found, $"This {f.Kind} needs at most {Preemptions(m.Stats.Preemptions)}", string.Create(CultureInfo.InvariantCulture, $": `{m.Trace}` ({m.Stats.Steps} steps); none was found with fewer than {Preemptions(m.SearchedBelow)} within the budget ({m.Iterations:N0} schedules).")),
        };
    }

    /// <summary>The one-line narration of each preemption: of the minimal schedule when there is one, else of the schedule found.</summary>
    internal static IReadOnlyList<string> Narration(FailureDocument f, ScheduleStats? schedule) =>
        f.Minimal is { } shortest ? shortest.Stats.Narration : schedule?.Narration ?? [];

    /// <summary>Gets the source lines a failure involves (its cycle, waits, holdings and over-releases; at most 12), each with its text when the file is here.</summary>
    internal static IReadOnlyList<(SourceSite Site, string? Text)> SourceLines(FailureDocument f) =>
        f.Cycle.Select(c => c.Site).Concat(f.Waitings.Select(w => w.Site)).Concat(f.Holdings.Select(h => h.Site))
            .Concat(f.Log?.Events.Where(e => e.Kind == EventKind.OverRelease).Select(e => e.Site) ?? [])
            .OfType<SourceSite>().Distinct().Take(12)
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

    internal static string Quote(string path) => path.Contains(' ', StringComparison.Ordinal) || path.Contains('\'', StringComparison.Ordinal) ? $"\"{path}\"" : path;
}

/// <summary>The minimal schedule's trace and recording, for its files and its timeline.</summary>
/// <param name="Trace">The trace.</param>
/// <param name="Log">The recording of its iteration.</param>
internal sealed record MinimalRun(string Trace, IterationLog? Log);
