using System.Text.Json;
using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>An accepted finding: a known bug of a test, by kind, that must not fail the gate.</summary>
internal sealed record AcceptedFinding(string Test, FailureKind Kind, string? Note = null);

/// <summary>The baseline file of accepted findings (<c>systematic-baseline.json</c>): known bugs pass the gate, new ones fail it.</summary>
internal sealed record Baseline
{
    /// <summary>The schema id of this version.</summary>
    public const string CurrentSchema = "systematic.baseline/1";

    /// <summary>The default file name.</summary>
    public const string DefaultFile = "systematic-baseline.json";

    /// <summary>Gets the schema id.</summary>
    public string Schema { get; init; } = CurrentSchema;

    /// <summary>Gets the accepted findings.</summary>
    public IReadOnlyList<AcceptedFinding> Accepted { get; init; } = [];

    /// <summary>Returns whether a bug of <paramref name="test"/> with <paramref name="kind"/> is accepted.</summary>
    public bool Accepts(string test, FailureKind? kind) => kind is { } k && this.Accepted.Any(a => a.Test == test && a.Kind == k);

    /// <summary>Reads a baseline file.</summary>
    public static Baseline Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new HarnessException($"Baseline not found: {path}");
        }

        try
        {
            var baseline = JsonSerializer.Deserialize<Baseline>(File.ReadAllText(path), Json.Options) ?? throw new HarnessException($"Baseline is empty: {path}");
            return baseline.Schema == CurrentSchema ? baseline : throw new HarnessException($"Baseline {path} has schema {baseline.Schema}; expected {CurrentSchema}.");
        }
        catch (JsonException e)
        {
            throw new HarnessException($"Baseline is not valid JSON: {path}: {e.Message}");
        }
    }

    /// <summary>Writes or updates <paramref name="path"/> with every unexpected bug of <paramref name="run"/> (a run folder, or a report folder whose latest run is used); returns the baseline and how many findings are new.</summary>
    public static (Baseline Baseline, int Added) Update(string path, string run)
    {
        var (_, summary) = SummaryDocument.Read(run);
        var existing = File.Exists(path) ? Read(path) : new Baseline();
        var accepted = existing.Accepted.ToList();
        var added = 0;
        foreach (var test in summary.Tests)
        {
            if (test is { Outcome: Outcome.Bug, ExpectationMet: false, Kind: { } kind } && !accepted.Any(a => a.Test == test.Test && a.Kind == kind))
            {
                accepted.Add(new AcceptedFinding(test.Test, kind, test.Diagnosis));
                added++;
            }
        }

        var baseline = existing with { Accepted = accepted.OrderBy(a => a.Test, StringComparer.Ordinal).ThenBy(a => a.Kind).ToList() };
        AtomicFile.Write(path, JsonSerializer.Serialize(baseline, Json.Options));
        return (baseline, added);
    }
}
