using Microsoft.Coyote.Logging;

namespace Systematic.Harness;

/// <summary>Discards Coyote's console chatter; the harness prints its own progress.</summary>
internal sealed class SilentLogger : ILogger
{
    public void Write(string value)
    {
    }

    public void Write(string format, object arg0)
    {
    }

    public void Write(string format, object arg0, object arg1)
    {
    }

    public void Write(string format, object arg0, object arg1, object arg2)
    {
    }

    public void Write(string format, params object[] args)
    {
    }

    public void Write(LogSeverity severity, string value)
    {
    }

    public void Write(LogSeverity severity, string format, object arg0)
    {
    }

    public void Write(LogSeverity severity, string format, object arg0, object arg1)
    {
    }

    public void Write(LogSeverity severity, string format, object arg0, object arg1, object arg2)
    {
    }

    public void Write(LogSeverity severity, string format, params object[] args)
    {
    }

    public void WriteLine(string value)
    {
    }

    public void WriteLine(string format, object arg0)
    {
    }

    public void WriteLine(string format, object arg0, object arg1)
    {
    }

    public void WriteLine(string format, object arg0, object arg1, object arg2)
    {
    }

    public void WriteLine(string format, params object[] args)
    {
    }

    public void WriteLine(LogSeverity severity, string value)
    {
    }

    public void WriteLine(LogSeverity severity, string format, object arg0)
    {
    }

    public void WriteLine(LogSeverity severity, string format, object arg0, object arg1)
    {
    }

    public void WriteLine(LogSeverity severity, string format, object arg0, object arg1, object arg2)
    {
    }

    public void WriteLine(LogSeverity severity, string format, params object[] args)
    {
    }

    public void Dispose()
    {
    }
}
