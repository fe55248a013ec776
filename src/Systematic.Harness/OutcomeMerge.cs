using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>
/// One test explored in several parts (workers of one run, or shards merged by <c>systematic merge</c>) as one
/// outcome: the first error, else the first bug (in part order) speaks for the test; iterations add up, the wall time
/// is the longest part's, uncontrolled calls and workers are pooled.
/// </summary>
internal static class OutcomeMerge
{
    /// <summary>Merges the parts of one test's run; the parts' other failure folders are left for the caller to drop.</summary>
    public static TestOutcome Of(IReadOnlyList<TestOutcome> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        return Primary(parts, p => p.Outcome) with
        {
            Iterations = parts.Sum(p => p.Iterations),
            Elapsed = parts.Max(p => p.Elapsed),
            Workers = parts.SelectMany(p => p.Workers).ToList(),
            Uncontrolled = Pooled(parts.Select(p => p.Uncontrolled)),
        };
    }

    /// <summary>Merges the lines of one test from several summaries.</summary>
    public static SummaryTest Of(IReadOnlyList<SummaryTest> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        return Primary(parts, p => p.Outcome) with
        {
            Iterations = parts.Sum(p => p.Iterations),
            Seconds = parts.Max(p => p.Seconds),
            Uncontrolled = Pooled(parts.Select(p => p.Uncontrolled)),
            Workers = parts.Any(p => p.Workers is not null) ? parts.SelectMany(p => p.Workers ?? []).ToList() : null,
        };
    }

    /// <summary>The part that speaks for the test: the first error, else the first bug, else the first part.</summary>
    public static T Primary<T>(IReadOnlyList<T> parts, Func<T, Outcome> outcome)
        where T : class =>
        parts.FirstOrDefault(p => outcome(p) == Outcome.Error) ?? parts.FirstOrDefault(p => outcome(p) == Outcome.Bug) ?? parts[0];

    private static List<string> Pooled(IEnumerable<IReadOnlyList<string>> calls) =>
        calls.SelectMany(c => c).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
}
