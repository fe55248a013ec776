using System.Globalization;
using System.Text;

namespace Systematic.Harness.Reports;

/// <summary>Renders <c>summary.md</c>: one table row per test, then the diagnoses.</summary>
internal static class SummaryMarkdown
{
    /// <summary>The file name in a run folder.</summary>
    public const string FileName = "summary.md";

    /// <summary>Renders <c>summary.md</c>.</summary>
    public static string Render(SummaryDocument summary)
    {
        var md = new StringBuilder();
        md.Append("# Systematic run ").AppendLine(summary.Run).AppendLine();
        var met = summary.Tests.Count(t => t.ExpectationMet);
        md.Append(CultureInfo.InvariantCulture, $"{met} of {summary.Tests.Count} tests as expected");
        md.AppendLine(summary.Interrupted ? " (interrupted)." : ".").AppendLine();
        md.AppendLine("| test | outcome | kind | expected | first bug at | iterations | time (s) | report |").AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var t in summary.Tests)
        {
            AppendRow(md, t);
        }

        AppendDiagnoses(md, summary.Tests.Where(t => t.Diagnosis is not null).ToList());
        return md.ToString();
    }

    private static void AppendRow(StringBuilder md, SummaryTest t) =>
        md.Append("| ").Append(Markdown.Code(t.Test)).Append(" | ").Append(t.ExpectationMet ? "✅ " : "❌ ").Append(t.Outcome.Name()).Append(" | ")
          .Append(t.Kind?.ToString() ?? "").Append(" | ").Append(OutcomeNames.Expected(t.Expected)).Append(" | ").Append(t.FirstBugIteration?.ToString(CultureInfo.InvariantCulture) ?? "")
          .Append(" | ").Append(t.Iterations.ToString(CultureInfo.InvariantCulture)).Append(" | ").Append(t.Seconds.ToString("0.00", CultureInfo.InvariantCulture))
          .Append(" | ").Append(t.ReportDir is null ? "" : $"[report]({Uri.EscapeDataString(t.ReportDir)}/report.md)").AppendLine(" |");

    private static void AppendDiagnoses(StringBuilder md, List<SummaryTest> diagnosed)
    {
        if (diagnosed.Count == 0)
        {
            return;
        }

        md.AppendLine().AppendLine("## Diagnoses").AppendLine();
        foreach (var t in diagnosed)
        {
            md.Append("- ").Append(Markdown.Code(t.Test)).Append(": ").AppendLine(Markdown.Sentence(t.Diagnosis!));
        }
    }
}
