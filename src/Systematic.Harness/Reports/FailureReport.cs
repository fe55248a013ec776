using System.Text.Json;
using System.Text.Json.Nodes;
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
        AtomicFile.Write(Path.Combine(folder, MarkdownFile), FailureMarkdown.Render(document, log, minimalRun?.Log));
        return folder;
    }

    /// <summary>Writes the folder of a predicted (unconfirmed) lock-order deadlock: the facts and the report, no trace.</summary>
    public static string WritePrediction(string runDir, TestCase test, TestOutcome outcome)
    {
        var folder = RunFolder.Unique(runDir, SafeName($"{test.Method.DeclaringType?.Name}.{test.Method.Name}"));
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
