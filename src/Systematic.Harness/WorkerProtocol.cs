using System.Text.Json;
using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>
/// What a parent run and its long-lived <c>systematic worker --serve</c> processes say to each other, defined once for
/// both sides: one request per line on the worker's standard input, progress lines and one result line per request on
/// its standard output.
/// </summary>
internal static class WorkerProtocol
{
    /// <summary>The prefix of the progress lines a worker prints (iterations started so far).</summary>
    public const string ProgressPrefix = "progress ";

    /// <summary>The prefix of the line that carries a test's outcome.</summary>
    public const string ResultPrefix = "result ";

    private static readonly JsonSerializerOptions Line = new(Json.Options) { WriteIndented = false };

    /// <summary>Writes a request as one line.</summary>
    public static string Write(WorkRequest request) => JsonSerializer.Serialize(request, Line);

    /// <summary>Reads a request line, or throws <see cref="HarnessException"/>.</summary>
    public static WorkRequest ReadRequest(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkRequest>(line, Line) ?? throw new HarnessException("Empty work request.");
        }
        catch (JsonException e)
        {
            throw new HarnessException($"Bad work request: {e.Message}");
        }
    }

    /// <summary>Writes an outcome as its result line.</summary>
    public static string Write(TestOutcome outcome) => ResultPrefix + JsonSerializer.Serialize(outcome, Line);

    /// <summary>Reads the outcome of a result line.</summary>
    public static TestOutcome ReadResult(string line) =>
        JsonSerializer.Deserialize<TestOutcome>(line.AsSpan(ResultPrefix.Length), Line) ?? throw new JsonException("empty result");
}

/// <summary>One test for a worker to explore: the prepared assembly, the test, where failures go, and how to explore (only what explores).</summary>
/// <param name="Assembly">The prepared (instrumented) assembly.</param>
/// <param name="Source">The assembly the user named.</param>
/// <param name="Test">The test's full name.</param>
/// <param name="RunDir">The run folder failure folders are written into.</param>
/// <param name="Options">How to explore.</param>
/// <param name="ReplayTool">How the reports' readers run Systematic, for the replay commands.</param>
internal sealed record WorkRequest(string Assembly, string Source, string Test, string RunDir, ExplorationOptions Options, string ReplayTool = FailureReport.DefaultTool);
