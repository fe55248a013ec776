using System.Globalization;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Cli;

/// <summary>The end-of-run table and the list of what was written.</summary>
internal static class SummaryTable
{
    public static void Write(TextWriter output, RunResult result)
    {
        var rows = result.Outcomes.Select(o => new[]
        {
            o.Test.Split('.')[^1],
            o.Outcome.Name(),
            o.Kind?.ToString() ?? "",
            OutcomeNames.Expected(o.Expected),
            o.FirstBugIteration?.ToString(CultureInfo.InvariantCulture) ?? "",
            o.Iterations.ToString(CultureInfo.InvariantCulture),
            o.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
            o.ExpectationMet ? "yes" : "NO",
        }).ToList();
        string[] header = ["test", "outcome", "kind", "expected", "first bug", "iterations", "time (s)", "as expected"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine();
        output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))));
        }

        output.WriteLine();
        var met = result.Outcomes.Count(o => o.ExpectationMet);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{met} of {result.Outcomes.Count} tests as expected in {result.Elapsed.TotalSeconds:0.0}s{(result.Interrupted ? " (interrupted)" : "")}."));
        foreach (var o in result.Outcomes.Where(o => o.Diagnosis is not null))
        {
            output.WriteLine($"  {o.Test.Split('.')[^1]}: {o.Diagnosis!.Sentence}");
        }

        output.WriteLine();
        output.WriteLine("Written:");
        output.WriteLine($"  {Path.Combine(result.RunDir, "summary.json")}");
        output.WriteLine($"  {Path.Combine(result.RunDir, "summary.md")}");
        foreach (var o in result.Outcomes.Where(o => o.ReportDir is not null))
        {
            output.WriteLine($"  {Path.Combine(o.ReportDir!, "report.md")}");
        }

        output.WriteLine($"Exit code {(int)result.ExitCode} ({result.ExitCode}).");
    }
}
