using Systematic.Harness;
using Systematic.Instrumentation;

namespace Systematic.Cli;

/// <summary><c>systematic doctor</c>, and its short form at the start of <c>systematic test</c>.</summary>
internal static class DoctorCommand
{
    private const int ShownAtTestStart = 10;

    public static ExitCode Run(IReadOnlyList<string> assemblies, TextWriter output)
    {
        var total = 0;
        foreach (var assembly in assemblies)
        {
            var findings = Examine(assembly);
            total += findings.Count;
            output.WriteLine($"{Path.GetFileName(assembly)}: {findings.Count} call(s) Coyote 1.7.11 does not control.");
            foreach (var finding in findings)
            {
                output.WriteLine($"  {finding.Site,-28} {finding.Api}  in {finding.Method}  → {finding.Alternative}");
            }
        }

        return total == 0 ? ExitCode.Success : ExitCode.ExpectationNotMet;
    }

    public static void Summarize(string assembly, TextWriter output)
    {
        var findings = Examine(assembly);
        if (findings.Count == 0)
        {
            return;
        }

        output.WriteLine($"doctor: {Path.GetFileName(assembly)} makes {findings.Count} call(s) Coyote does not control; their interleavings are not explored and traces through them may not reproduce:");
        foreach (var finding in findings.Take(ShownAtTestStart))
        {
            output.WriteLine($"  {finding.Site,-28} {finding.Api}  in {finding.Method}  → {finding.Alternative}");
        }

        if (findings.Count > ShownAtTestStart)
        {
            output.WriteLine($"  ... and {findings.Count - ShownAtTestStart} more (run `systematic doctor {Path.GetFileName(assembly)}`).");
        }
    }

    private static IReadOnlyList<DoctorFinding> Examine(string assembly)
    {
        if (!File.Exists(assembly))
        {
            throw new HarnessException($"Assembly not found: {assembly}");
        }

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
