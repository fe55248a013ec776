namespace Systematic.Harness;

/// <summary>The run-level report files written next to <c>summary.json</c>: JUnit, SARIF and the HTML report.</summary>
internal static class RunReports
{
    public const string JUnitFile = "junit.xml";
    public const string SarifFile = "results.sarif";
    public const string HtmlFile = "report.html";

    public static void Write(string runDir, SummaryDocument summary)
    {
        var failures = new Dictionary<string, FailureDocument>(StringComparer.Ordinal);
        foreach (var test in summary.Tests.Where(t => t.ReportDir is not null))
        {
            try
            {
                failures[test.Test] = FailureReport.Read(Path.Combine(runDir, test.ReportDir!));
            }
            catch (HarnessException)
            {
                // A folder that lost its facts is still listed, without details.
            }
        }

        AtomicFile.Write(Path.Combine(runDir, JUnitFile), JUnitReport.Render(summary, failures));
        AtomicFile.Write(Path.Combine(runDir, SarifFile), SarifReport.Render(summary, failures));
        AtomicFile.Write(Path.Combine(runDir, HtmlFile), HtmlReport.Render(summary, failures));
    }
}
