using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>One link of a wait-for cycle or chain: <paramref name="Waiter"/> waits at <paramref name="Site"/> for <paramref name="Resource"/> (or for the task <paramref name="Holder"/>), held by <paramref name="Holder"/>.</summary>
internal sealed record WaitLink(string Waiter, string? Resource, SourceSite? Site, string Holder);

/// <summary>Who holds a resource at the failure.</summary>
internal sealed record Holding(string Resource, string Task, int Permits, SourceSite? Site, bool TaskEnded);

/// <summary>Who is blocked at the failure, and on what.</summary>
internal sealed record Waiting(string Task, string WaitsFor, SourceSite? Site);

/// <summary>The explanation of one failure.</summary>
/// <param name="Kind">The root cause.</param>
/// <param name="Sentence">One plain sentence saying what happened.</param>
/// <param name="Consequences">What followed from the root cause (e.g. a deadlock of the waiters a leak starved).</param>
/// <param name="Resources">Names of the resources involved, root cause first.</param>
/// <param name="Cycle">The wait-for cycle, when there is one.</param>
/// <param name="Holdings">Who holds what at the failure.</param>
/// <param name="Waitings">Who waits for what at the failure.</param>
/// <param name="Message">The failure message as Coyote or the check reported it.</param>
internal sealed record Diagnosis(
    FailureKind Kind,
    string Sentence,
    IReadOnlyList<string> Consequences,
    IReadOnlyList<string> Resources,
    IReadOnlyList<WaitLink> Cycle,
    IReadOnlyList<Holding> Holdings,
    IReadOnlyList<Waiting> Waitings,
    string Message)
{
    /// <summary>Gets whether this is the failure of <paramref name="kind"/> on <paramref name="resources"/> (in any order): what replay and minimization must reproduce.</summary>
    public bool IsSame(FailureKind kind, IEnumerable<string> resources) =>
        this.Kind == kind && this.Resources.Order(StringComparer.Ordinal).SequenceEqual(resources.Order(StringComparer.Ordinal));
}
