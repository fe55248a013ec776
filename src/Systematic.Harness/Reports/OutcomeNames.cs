using System.Text.Json;
using System.Text.Json.Serialization;

namespace Systematic.Harness.Reports;

/// <summary>
/// The words <c>summary.json</c>, the reports and the console use for an outcome (<c>passed</c>, <c>bug</c>,
/// <c>error</c>) and for what a test declares (a kind's name, or <c>pass</c>): written in one place, read back by the
/// converters below, so code compares <see cref="Outcome"/> and <see cref="FailureKind"/> values, never strings.
/// </summary>
internal static class OutcomeNames
{
    /// <summary>What a test that declares no kind expects.</summary>
    public const string Pass = "pass";

    /// <summary>"passed", "bug" or "error".</summary>
    public static string Name(this Outcome outcome) => outcome switch
    {
        Outcome.Passed => "passed",
        Outcome.Bug => "bug",
        Outcome.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not an outcome."),
    };

    /// <summary>The declared kind's name, or "pass" when the test must pass.</summary>
    public static string Expected(FailureKind? expected) => expected?.ToString() ?? Pass;

    /// <summary>Reads an outcome's word (any casing), or returns false.</summary>
    public static bool TryParseOutcome(string? text, out Outcome outcome)
    {
        foreach (var candidate in Enum.GetValues<Outcome>())
        {
            if (string.Equals(candidate.Name(), text, StringComparison.OrdinalIgnoreCase))
            {
                outcome = candidate;
                return true;
            }
        }

        outcome = default;
        return false;
    }

    /// <summary>Reads "pass" (null) or a kind's name (any casing), or returns false.</summary>
    public static bool TryParseExpected(string? text, out FailureKind? expected)
    {
        expected = null;
        if (string.Equals(text, Pass, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var kind in Enum.GetValues<FailureKind>())
        {
            if (string.Equals(kind.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                expected = kind;
                return true;
            }
        }

        return false;
    }
}

/// <summary>Writes an <see cref="Outcome"/> as its word in <c>summary.json</c> ("passed", "bug", "error") and reads it back.</summary>
internal sealed class OutcomeJsonConverter : JsonConverter<Outcome>
{
    public override Outcome Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return OutcomeNames.TryParseOutcome(text, out var outcome)
            ? outcome
            : throw new JsonException($"\"{text}\" is not an outcome: expected \"passed\", \"bug\" or \"error\".");
    }

    public override void Write(Utf8JsonWriter writer, Outcome value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name());
}

/// <summary>Writes what a test declares in <c>summary.json</c>: a kind's name, or "pass" for none (never left out), and reads it back.</summary>
internal sealed class ExpectedJsonConverter : JsonConverter<FailureKind?>
{
    public override bool HandleNull => true;

    public override FailureKind? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return OutcomeNames.TryParseExpected(text, out var expected)
            ? expected
            : throw new JsonException($"\"{text}\" is not an expectation: expected \"pass\" or a failure kind.");
    }

    public override void Write(Utf8JsonWriter writer, FailureKind? value, JsonSerializerOptions options) => writer.WriteStringValue(OutcomeNames.Expected(value));
}
