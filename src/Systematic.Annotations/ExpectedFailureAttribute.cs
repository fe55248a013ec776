namespace Systematic;

/// <summary>Declares that a test must fail with the given kind; without it, a test is expected to pass.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class ExpectedFailureAttribute(FailureKind kind) : Attribute
{
    /// <summary>Gets the kind of failure the test must produce.</summary>
    public FailureKind Kind { get; } = kind;
}
