namespace Systematic.Harness;

/// <summary>
/// How the seeds of one test's explorations are spread, so that none replays another's schedules: the segments of one
/// exploration (after a predicted cycle that did not deadlock), and the parts of a test split between workers.
/// </summary>
internal static class SeedSpacing
{
    /// <summary>Between the segments of one exploration: a prime.</summary>
    public const uint Segment = 1_000_003u;

    /// <summary>
    /// Between the parts of a split test: odd and far from any small multiple of <see cref="Segment"/>, so that a part's
    /// later segments never start where the next part starts (with equal spacings they did).
    /// </summary>
    public const uint Part = 2_654_435_761u;
}
