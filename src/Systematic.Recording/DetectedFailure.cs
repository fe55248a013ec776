namespace Systematic.Recording;

/// <summary>A failure Systematic's own checks found while recording, handed to the analyses as it is (not as a message to parse back).</summary>
/// <param name="Kind">The kind of failure.</param>
/// <param name="Resources">The resources involved (ids in the log).</param>
/// <param name="Tasks">The tasks involved (ids in the log).</param>
/// <param name="Site">Where it was found, or null.</param>
public sealed record DetectedFailure(FailureKind Kind, IReadOnlyList<int> Resources, IReadOnlyList<int> Tasks, SourceSite? Site);
