using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>Reads a failure message as Coyote or Systematic's checks wrote it: its kind, the exception it carries, where that was thrown.</summary>
internal static class FailureMessage
{
    /// <summary>Gets the kind a failure message names: Systematic's own checks by their prefix, Coyote's by its wording.</summary>
    internal static FailureKind Kind(string message)
    {
        if (message.StartsWith(Recorder.FailurePrefix + "Leak", StringComparison.Ordinal))
        {
            return FailureKind.Leak;
        }

        if (message.StartsWith(Recorder.FailurePrefix + "OverRelease", StringComparison.Ordinal) || message.Contains("SemaphoreFullException", StringComparison.Ordinal))
        {
            return FailureKind.OverRelease;
        }

        if (message.Contains("is not controlled and is invoking", StringComparison.Ordinal) || message.Contains("created in a previous test iteration", StringComparison.Ordinal) ||
            message.Contains("is not intercepted and controlled", StringComparison.Ordinal))
        {
            // Coyote's own checks: code it does not control touched what it does.
            return FailureKind.Uncontrolled;
        }

        if (message.Contains("Deadlock detected", StringComparison.Ordinal) || message.Contains("Potential deadlock", StringComparison.Ordinal))
        {
            return FailureKind.Deadlock;
        }

        if (message.Contains("Scheduling steps bound", StringComparison.Ordinal) || message.Contains("hang detected", StringComparison.OrdinalIgnoreCase) || message.Contains("liveness", StringComparison.OrdinalIgnoreCase) ||
            message.Contains("maximum number of", StringComparison.OrdinalIgnoreCase) || message.Contains("Reached the maximum", StringComparison.OrdinalIgnoreCase))
        {
            return FailureKind.Hang;
        }

        if (message.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase) || message.StartsWith("Exception", StringComparison.Ordinal))
        {
            return FailureKind.UnhandledException;
        }

        return FailureKind.InvariantViolation;
    }

    /// <summary>
    /// Where the exception in <paramref name="message"/> was thrown: the innermost frame of the code under test with a
    /// source line (<c>MonitorQueue.cs:23 in MonitorQueue.TakeIf</c>). A frame whose source file is on this machine comes
    /// first: an assertion library's own frames (built elsewhere, <c>/_/src/...</c>) are not where the test failed.
    /// </summary>
    internal static string? ThrowSite(string message)
    {
        var frames = message.Split('\n').Select(Frame).OfType<(string File, string Line, string Method)>().ToList();
        var (file, line, method) = frames.FirstOrDefault(f => File.Exists(f.File)) is { File: not null } here ? here : frames.FirstOrDefault();
        if (file is null)
        {
            return null;
        }

        var name = method.Split('(')[0].Replace("`1", "", StringComparison.Ordinal).Replace("`2", "", StringComparison.Ordinal);
        var parts = name.Split('.');
        var shortName = parts.Length >= 2 ? $"{parts[^2]}.{parts[^1]}" : name;
        var slash = Math.Max(file.LastIndexOf('/'), file.LastIndexOf('\\'));
        return $"{file[(slash + 1)..]}:{line} in {shortName}";
    }

    /// <summary>
    /// The exception's type and message as the failure shows them: every line before its stack trace (an assertion's
    /// expected and actual values), joined with "; ", at most 6 lines and 600 characters.
    /// </summary>
    internal static string ExceptionText(string message)
    {
        const string CoyoteUnhandled = "Unhandled exception. ";
        var lines = message.Split('\n')
            .Select(l => l.Trim())
            .TakeWhile(l => !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("--- ", StringComparison.Ordinal))
            .Where(l => l.Length > 0)
            .Take(6)
            .Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        var text = string.Join("; ", lines);
        text = text.StartsWith(CoyoteUnhandled, StringComparison.Ordinal) ? text[CoyoteUnhandled.Length..] : text;
        return text.Length > 600 ? text[..600] + "…" : text;
    }

    /// <summary>A stack frame of the code under test with a source line, or null for any other line.</summary>
    private static (string File, string Line, string Method)? Frame(string raw)
    {
        var frame = raw.Trim();
        var at = frame.LastIndexOf(" in ", StringComparison.Ordinal);
        var line = frame.LastIndexOf(":line ", StringComparison.Ordinal);
        if (!frame.StartsWith("at ", StringComparison.Ordinal) || at < 0 || line < at)
        {
            return null;
        }

        var method = frame[3..at];
        if (method.StartsWith("System.", StringComparison.Ordinal) || method.StartsWith("Microsoft.Coyote.", StringComparison.Ordinal) ||
            method.StartsWith("Systematic.Recording.", StringComparison.Ordinal) || method.StartsWith("Systematic.Harness.", StringComparison.Ordinal))
        {
            return null;
        }

        return (frame[(at + 4)..line], frame[(line + 6)..].Trim(), method);
    }

    internal static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}
