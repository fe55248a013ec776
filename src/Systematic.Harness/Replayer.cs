using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Coyote;
using Systematic.Analysis;
using Systematic.Harness.Reports;
using Systematic.Recording;

namespace Systematic.Harness;

/// <summary>What a replay showed.</summary>
/// <param name="Reproduced">True when the same failure (same kind, same resources) happened again.</param>
/// <param name="Original">The failure as recorded.</param>
/// <param name="Replayed">The diagnosis of the replay, or null when no bug happened.</param>
/// <param name="Explanation">One line for the user.</param>
internal sealed record ReplayResult(bool Reproduced, FailureDocument Original, Diagnosis? Replayed, string Explanation);

/// <summary>Re-executes a recorded schedule and checks it fails the same way.</summary>
internal static class Replayer
{
    /// <summary>The Coyote version whose traces this build replays.</summary>
    public static readonly string CoyoteVersion = typeof(Configuration).Assembly.GetName().Version?.ToString(3) ?? "?";

    /// <summary>Replays a failure folder, or a <c>.trace</c> file inside one.</summary>
    /// <remarks>
    /// With <paramref name="breakOnFailure"/> or <paramref name="atKeyStep"/>, the schedule is replayed twice: once to
    /// learn its key steps (<see cref="LogView.KeySteps"/>), once stopping at each of them, in the task that takes it.
    /// </remarks>
    /// <param name="path">The failure folder or trace.</param>
    /// <param name="breakOnFailure">Whether to stop in an attached debugger at each key step and at the failure.</param>
    /// <param name="atKeyStep">What runs at each key step, or null.</param>
    /// <param name="test">The test to replay it on, already loaded (a test runner's own), or null to load the assembly that ran.</param>
    public static ReplayResult Replay(string path, bool breakOnFailure = false, Action<KeyStep>? atKeyStep = null, TestCase? test = null)
    {
        var (folder, tracePath) = Locate(path);
        var original = FailureReport.Read(folder);
        if (original.Kind == FailureKind.Uncontrolled && File.Exists(tracePath) && JsonNode.Parse(File.ReadAllText(tracePath)) is JsonObject { } recorded && recorded["Steps"] is not JsonArray { Count: > 0 })
        {
            return new ReplayResult(false, original, null, "Not replayable: Coyote stopped this test because code it does not control took part (kind Uncontrolled) before any scheduling step; there is no schedule to replay.");
        }

        var trace = ReadTrace(tracePath, original.Test);
        if (!File.Exists(original.Assembly))
        {
            throw new HarnessException($"The assembly that ran is gone: {original.Assembly} (re-run `systematic test` to recreate it).");
        }

        if (test is not null && test.Name != original.Test)
        {
            throw new HarnessException($"{folder} is a failure of {original.Test}, not of {test.Name}.");
        }

        test ??= PreparedAssembly.Prepare(original.Assembly, Path.Combine(Path.GetDirectoryName(folder) ?? ".", ".assemblies")).Tests.FirstOrDefault(t => t.Name == original.Test)
            ?? throw new HarnessException($"Test {original.Test} is not in {original.Assembly}.");

        var configuration = Configuration.Create().WithTelemetryEnabled(false).WithFailureOnMaxStepsBoundEnabled().WithReproducibleTrace(trace);

        // A schedule built from a predicted cycle is built again the same way (the minimal trace is a plain one).
        var plan = Path.GetFileName(tracePath) == FailureReport.TraceFile && File.Exists(Path.Combine(folder, FailureReport.PlanFile))
            ? DirectedPlan.Read(Path.Combine(folder, FailureReport.PlanFile))
            : null;
        using var scope = Recorder.Attach(new RecorderSettings { Directed = plan });
        return Run(test, original, configuration, breakOnFailure, atKeyStep);
    }

    private static ReplayResult Run(TestCase test, FailureDocument original, Configuration configuration, bool breakOnFailure, Action<KeyStep>? atKeyStep)
    {
        var replay = Recorder.Settings with { BreakOnFailure = breakOnFailure };
        if ((breakOnFailure || atKeyStep is not null) && TestRunner.Search(test, configuration).Log is { } first)
        {
            var view = new LogView(first);
            var steps = view.KeySteps().ToDictionary(e => e.Seq, e => new KeyStep(e, view.TaskName(e.Task), e.Resource > 0 ? view.ResourceName(e.Resource) : null));
            replay = replay with
            {
                BreakSteps = steps.Keys.ToHashSet(),
                AtBreakStep = e =>
                {
                    atKeyStep?.Invoke(steps.TryGetValue(e.Seq, out var step) ? step with { Event = e } : new KeyStep(e, $"task {e.Task}", null));
                    if (breakOnFailure && System.Diagnostics.Debugger.IsAttached)
                    {
                        // A key step of the failure, in the task that takes it: see its frames and locals here.
                        System.Diagnostics.Debugger.Break();
                    }
                },
            };
        }

        Diagnosis? replayed;
        using (Recorder.Attach(replay))
        {
            replayed = TestRunner.Search(test, configuration).Diagnosis;
        }

        if (replayed is null)
        {
            return new ReplayResult(false, original, null, $"Not reproduced: the schedule ran to the end without a failure (recorded: {original.Kind}).");
        }

        return replayed.IsSame(original.Kind, original.Resources)
            ? new ReplayResult(true, original, replayed, $"Reproduced: {replayed.Kind}{(replayed.Resources.Count > 0 ? " on " + string.Join(", ", replayed.Resources) : "")}. {replayed.Sentence}")
            : new ReplayResult(false, original, replayed, $"A different failure: recorded {original.Kind} on [{string.Join(", ", original.Resources)}], replayed {replayed.Kind} on [{string.Join(", ", replayed.Resources)}].");
    }

    private static (string Folder, string Trace) Locate(string path)
    {
        if (Directory.Exists(path))
        {
            return (Path.GetFullPath(path), Path.Combine(Path.GetFullPath(path), FailureReport.TraceFile));
        }

        if (File.Exists(path))
        {
            var full = Path.GetFullPath(path);
            return (Path.GetDirectoryName(full)!, full);
        }

        throw new HarnessException($"No failure folder or trace at {path}.");
    }

    private static string ReadTrace(string path, string expectedTest)
    {
        if (!File.Exists(path))
        {
            throw new HarnessException($"Trace not found: {path}");
        }

        var text = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new HarnessException($"Trace is empty: {path}");
        }

        JsonObject json;
        try
        {
            json = JsonNode.Parse(text) as JsonObject ?? throw new HarnessException($"Trace is not a JSON object: {path}");
        }
        catch (JsonException e)
        {
            throw new HarnessException($"Trace is not valid JSON (truncated or corrupt): {path}: {e.Message}");
        }

        var version = json["CoyoteVersion"]?.GetValue<string>();
        if (version is not null && !version.StartsWith(CoyoteVersion, StringComparison.Ordinal))
        {
            throw new HarnessException($"Trace was recorded by Coyote {version}; this build replays Coyote {CoyoteVersion} traces: {path}");
        }

        if (json["Steps"] is not JsonArray steps || steps.Count == 0)
        {
            throw new HarnessException($"Trace has no schedule steps (truncated or corrupt): {path}");
        }

        var test = json["TestName"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(test) && test != expectedTest)
        {
            throw new HarnessException($"Trace is of test {test}, but its folder's failure is of {expectedTest}: {path}");
        }

        return text;
    }
}

/// <summary>A step of a replayed failure worth stopping at: the event, and the names of its task and resource as the report gives them.</summary>
internal sealed record KeyStep(RecordedEvent Event, string Task, string? Resource)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"step {this.Event.Seq}: `{this.Task}` {this.Event.Kind.ToString().ToLowerInvariant()}{(this.Resource is null ? "" : $" `{this.Resource}`")} at {LogView.Short(this.Event.Site)}";
}
