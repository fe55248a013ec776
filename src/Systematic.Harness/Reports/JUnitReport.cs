using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Systematic.Harness.Reports;

/// <summary>JUnit XML: one test case per Coyote test; a failure element for every test whose expectation was not met.</summary>
internal static class JUnitReport
{
    public static string Render(SummaryDocument summary, IReadOnlyDictionary<string, FailureDocument> failures)
    {
        var cases = summary.Tests.Select(t => Case(t, failures.GetValueOrDefault(t.Test))).ToList();
        var failed = summary.Tests.Count(t => !t.ExpectationMet && t.Outcome != Outcome.Error);
        var errors = summary.Tests.Count(t => t.Outcome == Outcome.Error);
        var time = summary.Tests.Sum(t => t.Seconds).ToString("0.000", CultureInfo.InvariantCulture);
        var suite = new XElement(
            "testsuite",
            new XAttribute("name", Clean($"systematic {summary.Run}")),
            new XAttribute("tests", summary.Tests.Count),
            new XAttribute("failures", failed),
            new XAttribute("errors", errors),
            new XAttribute("skipped", 0),
            new XAttribute("time", time),
            new XAttribute("timestamp", summary.Started.UtcDateTime.ToString("s", CultureInfo.InvariantCulture)),
            cases);
        var document = new XDocument(new XElement("testsuites", new XAttribute("name", "systematic"), new XAttribute("tests", summary.Tests.Count), new XAttribute("failures", failed), new XAttribute("errors", errors), new XAttribute("time", time), suite));
        return document.Declaration + document.ToString();
    }

    private static XElement Case(SummaryTest test, FailureDocument? failure)
    {
        var dot = test.Test.LastIndexOf('.');
        var element = new XElement(
            "testcase",
            new XAttribute("classname", Clean(dot > 0 ? test.Test[..dot] : test.Test)),
            new XAttribute("name", Clean(dot > 0 ? test.Test[(dot + 1)..] : test.Test)),
            new XAttribute("time", test.Seconds.ToString("0.000", CultureInfo.InvariantCulture)));
        var details = Details(test, failure);
        if (test.Outcome == Outcome.Error)
        {
            element.Add(new XElement("error", new XAttribute("message", Clean(test.Error ?? "error")), new XAttribute("type", "HarnessError"), Clean(test.Error ?? "")));
        }
        else if (!test.ExpectationMet)
        {
            var message = test.Outcome == Outcome.Bug
                ? $"{test.Kind}: {test.Diagnosis}"
                : $"Expected {OutcomeNames.Expected(test.Expected)}, but no bug was found in {test.Iterations} iterations.";
            element.Add(new XElement("failure", new XAttribute("message", Clean(message)), new XAttribute("type", test.Kind?.ToString() ?? "ExpectationNotMet"), Clean(details)));
        }
        else if (test.Outcome == Outcome.Bug)
        {
            element.Add(new XElement("system-out", Clean((test.Accepted ? "Accepted by the baseline. " : "Caught as declared. ") + details)));
        }

        return element;
    }

    private static string Details(SummaryTest test, FailureDocument? failure)
    {
        var text = new StringBuilder();
        text.Append("Kind: ").Append(test.Kind?.ToString() ?? "none").Append("; expected: ").AppendLine(OutcomeNames.Expected(test.Expected));
        if (test.Diagnosis is { } diagnosis)
        {
            text.AppendLine(diagnosis);
        }

        if (failure is not null)
        {
            text.Append("Replay: ").AppendLine(failure.Replay.Systematic);
            text.Append("Stock Coyote: ").AppendLine(failure.Replay.Coyote ?? $"cannot replay it ({failure.Replay.NoCoyoteBecause})");
        }

        if (test.ReportDir is { } dir)
        {
            text.Append("Report: ").AppendLine(Path.Combine(dir, FailureReport.MarkdownFile));
        }

        return text.ToString();
    }

    /// <summary>Characters XML 1.0 cannot hold at all are replaced; everything else is escaped by the writer.</summary>
    private static string Clean(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(XmlConvert.IsXmlChar(c) ? c : '\uFFFD');
        }

        return builder.ToString();
    }
}
