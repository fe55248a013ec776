namespace Systematic;

/// <summary>Describes a concurrency pattern whose buggy and fixed variants are the test methods of the annotated class.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class PatternAttribute(string title) : Attribute
{
    /// <summary>Gets the pattern's short title.</summary>
    public string Title { get; } = title;

    /// <summary>Gets or sets what goes wrong in the buggy variant.</summary>
    public string Problem { get; init; } = "";

    /// <summary>Gets or sets why it goes wrong.</summary>
    public string Cause { get; init; } = "";

    /// <summary>Gets or sets what the fixed variant does differently.</summary>
    public string Fix { get; init; } = "";
}
