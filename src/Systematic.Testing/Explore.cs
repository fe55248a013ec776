using System.Runtime.CompilerServices;

namespace Systematic;

/// <summary>
/// Systematic exploration from any test framework (NUnit, MSTest, xunit v2): the body runs once per iteration under
/// Coyote's scheduler; a bug throws <see cref="SystematicFailureException"/> with its kind, diagnosis and failure folder.
/// The test project must reference the Systematic.Testing package, whose build step prepares the code under test.
/// </summary>
public static class Explore
{
    /// <summary>Explores <paramref name="body"/>; throws <see cref="SystematicFailureException"/> on a bug.</summary>
    /// <param name="body">The test body: create the objects under test inside it, so each iteration starts afresh.</param>
    /// <param name="options">How to explore (default: 1,000 iterations of Coyote's portfolio).</param>
    /// <param name="cancellationToken">Stops the exploration.</param>
    /// <param name="test">The test's name (filled in by the compiler); names the failure folder.</param>
    /// <param name="file">Filled in by the compiler.</param>
    /// <returns>The exploration's summary line (iterations, strategy, seed).</returns>
    public static Task<string> RunAsync(Func<Task> body, ExploreOptions? options = null, CancellationToken cancellationToken = default, [CallerMemberName] string test = "", [CallerFilePath] string file = "")
    {
        ArgumentNullException.ThrowIfNull(body);
        return Exploration.RunAsync(Exploration.Describe(body, body.Method, test, file), options ?? new ExploreOptions(), Console.WriteLine, cancellationToken);
    }

    /// <summary>Explores <paramref name="body"/>, a synchronous test body; throws <see cref="SystematicFailureException"/> on a bug.</summary>
    /// <param name="body">The test body.</param>
    /// <param name="options">How to explore.</param>
    /// <param name="cancellationToken">Stops the exploration.</param>
    /// <param name="test">The test's name (filled in by the compiler).</param>
    /// <param name="file">Filled in by the compiler.</param>
    /// <returns>The exploration's summary line.</returns>
    public static Task<string> RunAsync(Action body, ExploreOptions? options = null, CancellationToken cancellationToken = default, [CallerMemberName] string test = "", [CallerFilePath] string file = "")
    {
        ArgumentNullException.ThrowIfNull(body);
        return Exploration.RunAsync(Exploration.Describe(body, body.Method, test, file), options ?? new ExploreOptions(), Console.WriteLine, cancellationToken);
    }
}
