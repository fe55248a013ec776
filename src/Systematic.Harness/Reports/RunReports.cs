namespace Systematic.Harness.Reports;

/// <summary>The run-level report files: <c>summary.json</c>, <c>summary.md</c>, JUnit, SARIF and the HTML report.</summary>
internal static class RunReports
{
    public const string JUnitFile = "junit.xml";
    public const string SarifFile = "results.sarif";
    public const string HtmlFile = "report.html";

    /// <summary>Writes the report files of <paramref name="summary"/> into <paramref name="runDir"/>, once, from what each test left in its failure folder.</summary>
    public static void Write(string runDir, SummaryDocument summary)
    {
        summary.Write(runDir);
        AtomicFile.Write(Path.Combine(runDir, SummaryMarkdown.FileName), SummaryMarkdown.Render(summary));
        var failures = Failures(runDir, summary);
        AtomicFile.Write(Path.Combine(runDir, JUnitFile), JUnitReport.Render(summary, failures));
        AtomicFile.Write(Path.Combine(runDir, SarifFile), SarifReport.Render(summary, failures));
        AtomicFile.Write(Path.Combine(runDir, HtmlFile), HtmlReport.Render(summary, failures));
    }

    /// <summary>The facts of every failure folder of <paramref name="summary"/>, by test; a folder that lost its facts is left out.</summary>
    private static Dictionary<string, FailureDocument> Failures(string runDir, SummaryDocument summary)
    {
        var failures = new Dictionary<string, FailureDocument>(StringComparer.Ordinal);
        foreach (var test in summary.Tests.Where(t => t.ReportDir is not null))
        {
            var folder = Path.Combine(runDir, test.ReportDir!);
            try
            {
                failures[test.Test] = FailureReport.Read(folder);
            }
            catch (HarnessException)
            {
                // A folder that lost its facts is still listed, without details.
            }
        }

        return failures;
    }
}
