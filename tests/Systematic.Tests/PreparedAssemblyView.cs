using System.Reflection;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>A plain (not instrumented) test assembly loaded in its own context, for bare-Coyote comparisons.</summary>
internal sealed class PreparedAssemblyView
{
    private PreparedAssemblyView(IReadOnlyList<(string ShortName, MethodInfo Method)> tests) => this.Tests = tests.Select(t => new Entry(t.ShortName, t.Method)).ToList();

    public IReadOnlyList<Entry> Tests { get; }

    public static PreparedAssemblyView LoadPlain(string path)
    {
        var context = new TestLoadContext(Path.GetDirectoryName(path)!);
        var assembly = context.LoadFromAssemblyPath(path);
        var tests = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.CustomAttributes.Any(a => a.AttributeType.FullName == "Microsoft.Coyote.SystematicTesting.TestAttribute"))
            .Select(m => (m.Name, m))
            .ToList();
        return new PreparedAssemblyView(tests);
    }

    internal sealed record Entry(string ShortName, MethodInfo Method);
}
