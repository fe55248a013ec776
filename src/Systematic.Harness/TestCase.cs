using System.Reflection;

namespace Systematic.Harness;

/// <summary>A pattern's description, as the catalog's <see cref="PatternAttribute"/> gives it.</summary>
internal sealed record PatternInfo(string Title, string Problem, string Cause, string Fix);

/// <summary>One Coyote test of a prepared assembly.</summary>
/// <param name="Name">Full name, <c>Namespace.Type.Method</c>, as <c>coyote test -m</c> takes it.</param>
/// <param name="Method">The method in the instrumented copy.</param>
/// <param name="Expected">The failure kind it must produce, or null when it must pass.</param>
/// <param name="Pattern">Its pattern description, if any.</param>
/// <param name="Assembly">The prepared assembly it belongs to.</param>
internal sealed record TestCase(string Name, MethodInfo Method, FailureKind? Expected, PatternInfo? Pattern, PreparedAssembly Assembly)
{
    /// <summary>
    /// Gets the body to explore when it is not <see cref="Method"/> called as <c>coyote test</c> would call it: a
    /// delegate handed to <c>Explore.RunAsync</c> (a <see cref="Func{Task}"/> or an <see cref="Action"/>), or null.
    /// </summary>
    public Delegate? Body { get; init; }

    /// <summary>
    /// Gets how an iteration makes its instance of the test class when not by a public parameterless constructor (a test
    /// runner's constructor arguments: an output helper, fixtures), or null. Stock <c>coyote replay</c> cannot make one.
    /// </summary>
    public Func<object>? Instance { get; init; }

    /// <summary>Gets the name of its failure folders: <c>Class.Method</c>, of the test rather than of a delegate's compiler-made method.</summary>
    public string FolderName => this.Body is null
        ? $"{this.Method.DeclaringType?.Name}.{this.Method.Name}"
        : string.Join('.', this.Name.Split('.').TakeLast(2));

    /// <summary>Gets the method name alone.</summary>
    public string ShortName => this.Method.Name;

    /// <summary>Gets a one-line description: the pattern's problem for buggy variants, its fix for fixed ones.</summary>
    public string Description => this.Pattern is null
        ? ""
        : this.Expected is null ? $"{this.Pattern.Title}: {this.Pattern.Fix}" : $"{this.Pattern.Title}: {this.Pattern.Problem}";
}
