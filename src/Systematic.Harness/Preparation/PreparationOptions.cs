using System.Text.RegularExpressions;

namespace Systematic.Harness.Preparation;

/// <summary>Which of the assemblies the tests reach are prepared: <c>--include</c> and <c>--exclude</c> globs over assembly names.</summary>
internal sealed record PreparationOptions
{
    /// <summary>Gets the options that prepare every assembly the tests reach (but the framework, Coyote, Systematic and test frameworks).</summary>
    public static PreparationOptions Default { get; } = new();

    /// <summary>Gets the globs (<c>*</c>, <c>?</c>) of assembly names to prepare; when any is given, only matching assemblies (and the test assembly) are.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Gets the globs of assembly names never to prepare.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Gets a stable text of these options, part of the cache key of a prepared copy.</summary>
    public string Key => $"include={string.Join(';', this.Include)}|exclude={string.Join(';', this.Exclude)}";

    /// <summary>Throws <see cref="HarnessException"/> for an empty or malformed glob.</summary>
    public void Validate()
    {
        foreach (var (option, glob) in this.Include.Select(g => ("--include", g)).Concat(this.Exclude.Select(g => ("--exclude", g))))
        {
            if (string.IsNullOrWhiteSpace(glob))
            {
                throw new HarnessException($"{option} needs an assembly name or glob (e.g. {option} 'MyCompany.*').");
            }

            if (glob.IndexOfAny(['/', '\\']) >= 0)
            {
                throw new HarnessException($"{option} '{glob}' is a path; give an assembly name or glob (e.g. 'MyCompany.*').");
            }
        }
    }

    /// <summary>Returns the first <c>--exclude</c> glob matching <paramref name="name"/>, or null.</summary>
    public string? Excludes(string name) => this.Exclude.FirstOrDefault(g => Matches(g, name));

    /// <summary>Returns whether <paramref name="name"/> may be prepared under the <c>--include</c> globs.</summary>
    public bool Includes(string name) => this.Include.Count == 0 || this.Include.Any(g => Matches(g, name));

    /// <summary>Throws <see cref="HarnessException"/> for a glob that matches none of <paramref name="reached"/>.</summary>
    public void CheckMatches(IReadOnlyCollection<string> reached, string testAssembly)
    {
        foreach (var (option, glob) in this.Include.Select(g => ("--include", g)).Concat(this.Exclude.Select(g => ("--exclude", g))))
        {
            if (!reached.Any(name => Matches(glob, name)))
            {
                var names = string.Join(", ", reached.Order(StringComparer.OrdinalIgnoreCase).Take(12)) + (reached.Count > 12 ? ", ..." : "");
                throw new HarnessException($"{option} '{glob}' matches no assembly {testAssembly} reaches (it reaches: {names}).");
            }
        }
    }

    /// <summary>Matches an assembly-name glob (<c>*</c> any run, <c>?</c> one character, case-insensitive; a trailing <c>.dll</c> is ignored).</summary>
    public static bool Matches(string glob, string name)
    {
        var pattern = glob.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? glob[..^4] : glob;
        var regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
