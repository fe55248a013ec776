using Systematic.Harness;
using Systematic.Harness.Preparation;
using Systematic.Instrumentation;

namespace Systematic.Cli;

/// <summary><c>systematic doctor</c>, and its short form at the start of <c>systematic test</c>: over every assembly the tests reach.</summary>
internal static class DoctorCommand
{
    private const int ShownAtTestStart = 10;

    public static ExitCode Run(IReadOnlyList<string> assemblies, PreparationOptions preparation, TextWriter output)
    {
        var total = 0;
        foreach (var assembly in assemblies)
        {
            if (!File.Exists(assembly))
            {
                throw new HarnessException($"Assembly not found: {assembly}");
            }

            var closure = PreparedAssembly.Scan(assembly, preparation);
            foreach (var line in ClosureReport.Lines(closure).Where(l => l.StartsWith("warning", StringComparison.Ordinal)))
            {
                output.WriteLine(line);
            }

            foreach (var member in Examinable(closure))
            {
                var findings = Examine(member.Path!);
                total += findings.Count;
                output.WriteLine($"{Path.GetFileName(member.Path)}: {findings.Count} call(s) neither Coyote 1.7.11 nor Systematic controls.");
                foreach (var finding in findings)
                {
                    output.WriteLine($"  {finding.Site,-28} {finding.Api}  in {finding.Method}  → {finding.Alternative}");
                }
            }
        }

        return total == 0 ? ExitCode.Success : ExitCode.ExpectationNotMet;
    }

    public static void Summarize(PreparedAssembly assembly, TextWriter output)
    {
        var members = assembly.Closure.Count > 0 ? Examinable(assembly.Closure).ToList() : [new AssemblyDecision(Path.GetFileNameWithoutExtension(assembly.SourcePath), PreparationAction.UsedAsIs, "", assembly.SourcePath)];
        var inPackages = new List<string>();
        foreach (var member in members)
        {
            var findings = Examine(member.Path!);
            if (findings.Count == 0)
            {
                continue;
            }

            if (member.IsPackage)
            {
                // Most of a package's API is never called by the tests: counted here, listed by `doctor`, seen at run time if reached.
                inPackages.Add($"{member.Name} {findings.Count}");
                continue;
            }

            output.WriteLine($"doctor: {Path.GetFileName(member.Path)} makes {findings.Count} call(s) Coyote does not control; their interleavings are not explored and traces through them may not reproduce:");
            foreach (var finding in findings.Take(ShownAtTestStart))
            {
                output.WriteLine($"  {finding.Site,-28} {finding.Api}  in {finding.Method}  → {finding.Alternative}");
            }

            if (findings.Count > ShownAtTestStart)
            {
                output.WriteLine($"  ... and {findings.Count - ShownAtTestStart} more (run `systematic doctor {Path.GetFileName(assembly.SourcePath)}`).");
            }
        }

        if (inPackages.Count > 0)
        {
            output.WriteLine($"doctor: packages make calls Coyote does not control ({string.Join(", ", inPackages)}); those the tests reach are reported per test (`systematic doctor {Path.GetFileName(assembly.SourcePath)}` lists them all).");
        }
    }

    /// <summary>The members whose code runs under the tests and can be examined: prepared ones, from their original files.</summary>
    private static IEnumerable<AssemblyDecision> Examinable(IReadOnlyList<AssemblyDecision> closure) =>
        closure.Where(d => d.IsPrepared && d.Path is not null && File.Exists(d.Path));

    private static IReadOnlyList<DoctorFinding> Examine(string assembly)
    {
        try
        {
            return Doctor.Examine(assembly);
        }
        catch (BadImageFormatException)
        {
            throw new HarnessException($"Not a .NET assembly: {assembly}");
        }
    }
}
