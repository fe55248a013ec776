namespace Systematic.Harness;

/// <summary>The run-level report files written next to <c>summary.json</c>: JUnit, SARIF and the HTML report.</summary>
internal static class RunReports
{
    public const string JUnitFile = "junit.xml";
    public const string SarifFile = "results.sarif";
    public const string HtmlFile = "report.html";

    /// <summary>Writes the reports of <paramref name="summary"/>, reading each failure folder unless <paramref name="known"/> (by folder path) has it already.</summary>
    public static void Write(string runDir, SummaryDocument summary, Dictionary<string, FailureDocument>? known = null)
    {
        var failures = new Dictionary<string, FailureDocument>(StringComparer.Ordinal);
        foreach (var test in summary.Tests.Where(t => t.ReportDir is not null))
        {
            var folder = Path.Combine(runDir, test.ReportDir!);
            try
            {
                if (known is null || !known.TryGetValue(folder, out var failure))
                {
                    failure = FailureReport.Read(folder);
                    known?.Add(folder, failure);
                }

                failures[test.Test] = failure;
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
