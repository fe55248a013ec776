namespace Systematic;

/// <summary>A bug Systematic found (or a replay reproduced), or a test it could not explore.</summary>
public sealed class SystematicFailureException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SystematicFailureException"/> class.</summary>
    public SystematicFailureException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SystematicFailureException"/> class.</summary>
    /// <param name="message">The message.</param>
    public SystematicFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SystematicFailureException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SystematicFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the kind of failure, or <see cref="FailureKind.None"/> when the test could not be explored.</summary>
    public FailureKind Kind { get; init; }

    /// <summary>Gets the diagnosis: which task waits for which resource, held by whom, at which line.</summary>
    public string Diagnosis { get; init; } = "";

    /// <summary>Gets the failure folder (report.md, failure.trace, minimal.trace), or null.</summary>
    public string? Folder { get; init; }
}
