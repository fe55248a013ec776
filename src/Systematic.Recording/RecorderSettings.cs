namespace Systematic.Recording;

/// <summary>What a run asks of the recorder, attached for its duration with <see cref="Recorder.Attach"/>.</summary>
public sealed record RecorderSettings
{
    /// <summary>Gets the settings of no run: record only.</summary>
    public static RecorderSettings None { get; } = new();

    /// <summary>Gets the schedule to build (confirming a predicted lock-order cycle, or replaying one it confirmed), or null.</summary>
    public DirectedPlan? Directed { get; init; }

    /// <summary>Gets a value indicating whether a failure stops in an attached debugger, on the failing task's stack.</summary>
    public bool BreakOnFailure { get; init; }

    /// <summary>Gets the steps (event sequence numbers) at which <see cref="AtBreakStep"/> runs, on the thread of the task that takes the step and before it blocks; null for none.</summary>
    public IReadOnlySet<int>? BreakSteps { get; init; }

    /// <summary>Gets what runs at each of <see cref="BreakSteps"/> (a debugger break, when replaying with --break).</summary>
    public Action<RecordedEvent>? AtBreakStep { get; init; }
}
