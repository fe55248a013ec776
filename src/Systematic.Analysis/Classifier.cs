using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>
/// Computes a failure's kind from what happened in the recorded iteration, never from test names: the root cause
/// first (a leak that starves later waiters is a <see cref="FailureKind.Leak"/>), its consequences after.
/// </summary>
internal static class Classifier
{
    /// <summary>Explains the failure <paramref name="message"/> that ended the iteration recorded in <paramref name="log"/>.</summary>
    public static Diagnosis Classify(IterationLog? log, string message)
    {
        message = message.Trim();
        if (log is null || log.Tasks.Count == 0)
        {
            return FromMessageOnly(message);
        }

        var view = new LogView(log);
        var analysis = new DiagnosisRules(view, message);
        return analysis.Run();
    }

    /// <summary>Gets the kind a message alone suggests, when nothing was recorded.</summary>
    public static Diagnosis FromMessageOnly(string message)
    {
        var kind = FailureMessage.Kind(message);
        var sentence = kind switch
        {
            FailureKind.Deadlock => "Tasks are blocked for ever on something Systematic's probes did not record (a task nobody completes, or code outside the instrumented assembly).",
            FailureKind.Hang => message.Contains("Scheduling steps bound", StringComparison.Ordinal)
                ? $"The test did not finish within the scheduling-step bound: it spins or livelocks ({FailureMessage.FirstLine(message)})"
                : $"The test made no progress within its bound: {FailureMessage.FirstLine(message)}",
            FailureKind.UnhandledException => $"An exception escaped the test: {FailureMessage.ExceptionText(message)}" + (FailureMessage.ThrowSite(message) is { } thrown ? $" (thrown at {thrown})" : ""),
            FailureKind.OverRelease => $"A semaphore was released above its limit: {FailureMessage.FirstLine(message)}",
            FailureKind.Leak => FailureMessage.FirstLine(message.Replace(Recorder.FailurePrefix + "Leak: ", "", StringComparison.Ordinal)),
            FailureKind.Uncontrolled => $"Coyote stopped the test: {FailureMessage.FirstLine(message)} This is a limit of the harness, not a verdict on the code.",
            _ => $"An invariant failed: {FailureMessage.FirstLine(message)}",
        };
        return new Diagnosis(kind, sentence, [], [], [], [], [], message);
    }
}
