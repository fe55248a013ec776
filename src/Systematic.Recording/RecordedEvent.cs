namespace Systematic.Recording;

/// <summary>One step of a recorded schedule.</summary>
/// <param name="Seq">Position in the iteration, from 1.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Task">The task it happened in (0 when outside any known task).</param>
/// <param name="Resource">The resource involved, or 0.</param>
/// <param name="Site">Source site, or null.</param>
/// <param name="Count">Free permits after the event, or -1.</param>
/// <param name="Amount">Permits released, or 1.</param>
/// <param name="Targets">For <see cref="EventKind.Await"/>: the awaited tasks (-1 for a task no probe started); for <see cref="EventKind.Pulse"/> and <see cref="EventKind.PulseAll"/>: the tasks woken.</param>
public sealed record RecordedEvent(
    int Seq,
    EventKind Kind,
    int Task,
    int Resource,
    SourceSite? Site,
    int Count = -1,
    int Amount = 1,
    IReadOnlyList<int>? Targets = null);
