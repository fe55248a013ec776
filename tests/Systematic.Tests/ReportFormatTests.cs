using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using Systematic.Analysis;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>JUnit, SARIF and HTML outputs: their structure, escaping of hostile strings, and the HTML as a browser shows it.</summary>
[Collection("engine")]
public sealed class ReportFormatTests
{
    private const string Hostile = "<script>alert(1)</script> \"quoted\" 'single' & | `tick` \u0001\u0007 ]]> --> \n second line ../../../etc/passwd \\back";

    private static readonly Lazy<string> Run = new(() =>
    {
        var outdir = Paths.NewTempDir("formats");
        CliTests.Run("test", "--filter", "NoFinally|LockOrder", "-i", "300", "--seed", "2", "-o", outdir);
        return Path.GetFullPath(Path.Combine(outdir, "latest"));
    });

    [Fact]
    public void JUnitHasOneTestCasePerTestAndAFailureExactlyWhereAnExpectationWasNotMet()
    {
        var summary = ReadSummary(Run.Value);

        var junit = XDocument.Load(Path.Combine(Run.Value, RunReports.JUnitFile));

        var suite = Assert.Single(junit.Root!.Elements("testsuite"));
        Assert.Equal(summary.Tests.Count, (int)suite.Attribute("tests")!);
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(summary.Tests.Select(t => t.Test.Split('.')[^1]).Order(), cases.Select(c => (string)c.Attribute("name")!).Order());
        Assert.All(cases, c => Assert.NotNull(c.Attribute("classname")));
        Assert.Equal(summary.Tests.Count(t => !t.ExpectationMet), cases.Count(c => c.Element("failure") is not null));
        Assert.Equal(summary.Tests.Count(t => !t.ExpectationMet), (int)suite.Attribute("failures")!);
        Assert.Contains(cases, c => ((string?)c.Element("system-out"))?.Contains("Caught as declared", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void SarifHasTheRequiredStructureAndOneResultPerFailureAtItsSourceLine()
    {
        var summary = ReadSummary(Run.Value);

        using var sarif = JsonDocument.Parse(File.ReadAllText(Path.Combine(Run.Value, RunReports.SarifFile)));

        var root = sarif.RootElement;
        Assert.Equal("2.1.0", root.GetProperty("version").GetString());
        Assert.Contains("sarif-2.1.0", root.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        var run = Assert.Single(root.GetProperty("runs").EnumerateArray());
        Assert.Equal("Systematic", run.GetProperty("tool").GetProperty("driver").GetProperty("name").GetString());
        var ruleIds = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToHashSet();
        var results = run.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(summary.Tests.Count(t => t.Outcome == "bug"), results.Count);
        foreach (var result in results)
        {
            Assert.Contains(result.GetProperty("ruleId").GetString(), ruleIds);
            Assert.False(string.IsNullOrEmpty(result.GetProperty("message").GetProperty("text").GetString()));
            var location = result.GetProperty("locations")[0].GetProperty("physicalLocation");
            Assert.EndsWith(".cs", location.GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
            Assert.True(location.GetProperty("region").GetProperty("startLine").GetInt32() > 0);
        }

        var lockOrder = results.Single(r => r.GetProperty("ruleId").GetString() == "LockOrderDeadlock");
        Assert.True(lockOrder.GetProperty("relatedLocations").GetArrayLength() >= 1);
    }

    [Fact]
    public void HostileNamesAndMessagesAreEscapedInEveryFormat()
    {
        var (summary, failures) = HostileDocuments();

        var junit = JUnitReport.Render(summary, failures);
        var sarif = SarifReport.Render(summary, failures);
        var html = HtmlReport.Render(summary, failures);
        var markdown = FailureMarkdown.Render(failures.Values.Single(), null);

        var parsed = XDocument.Parse(junit);
        Assert.Contains("<script>alert(1)</script>", (string)parsed.Descendants("failure").Single().Attribute("message")!, StringComparison.Ordinal);
        using var sarifDocument = JsonDocument.Parse(sarif);
        Assert.Contains("<script>", sarifDocument.RootElement.GetProperty("runs")[0].GetProperty("results")[0].GetProperty("message").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain('\u0007', html);
        // Code blocks and code spans show their text literally in CommonMark; everywhere else markup must be escaped.
        var outsideCode = System.Text.RegularExpressions.Regex.Replace(string.Join('\n', markdown.Split("```").Where((_, i) => i % 2 == 0)), "``.*?``|`[^`\n]*`", "");
        Assert.DoesNotContain("<script>", outsideCode, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", outsideCode, StringComparison.Ordinal);
        Assert.DoesNotContain('\u0007', markdown);
    }

    [Fact]
    public void ReportHtmlShowsTheTimelineAndTheWaitForGraphInABrowser()
    {
        const string Chromium = "/usr/bin/chromium";
        if (!File.Exists(Chromium))
        {
            // .ci/run installs Chromium; on a developer machine without it, this check cannot run.
            Assert.Null(Environment.GetEnvironmentVariable("CI"));
            return;
        }

        var page = Path.Combine(Run.Value, RunReports.HtmlFile);
        var shots = Path.Combine(Path.GetDirectoryName(Run.Value)!, "screenshots");
        Directory.CreateDirectory(shots);
        var screenshot = Path.Combine(shots, "report.png");

        var dom = Browser(Chromium, "--dump-dom", page);
        Browser(Chromium, $"--screenshot={screenshot}", page, "--window-size=1300,1800");

        Assert.Contains("class=\"timeline\"", dom, StringComparison.Ordinal);
        Assert.Contains("class=\"waitfor-graph\"", dom, StringComparison.Ordinal);
        Assert.Contains("cycle-edge", dom, StringComparison.Ordinal);
        Assert.Contains("failing-wait", dom, StringComparison.Ordinal);
        Assert.True(new FileInfo(screenshot).Length > 50_000, $"the screenshot {screenshot} looks blank");
    }

    private static string Browser(string chromium, string action, string page, string? extra = null)
    {
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={Paths.NewTempDir("chromium")}", action })
        {
            start.ArgumentList.Add(arg);
        }

        if (extra is not null)
        {
            start.ArgumentList.Add(extra);
        }

        start.ArgumentList.Add(new Uri(page).AbsoluteUri);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(90)), "chromium did not finish");
        return output.Result;
    }

    // A reader of its own, as a user's tool would have: web defaults and enums as strings.
    private static readonly JsonSerializerOptions Reader = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    private static SummaryDocument ReadSummary(string runDir) =>
        JsonSerializer.Deserialize<SummaryDocument>(File.ReadAllText(Path.Combine(runDir, "summary.json")), Reader)!;

    private static (SummaryDocument Summary, Dictionary<string, FailureDocument> Failures) HostileDocuments()
    {
        var name = $"Hostile.{Hostile.Replace('.', '_')}";
        var site = Recording.SourceSite.Format($"/src/{Hostile}.cs", 7, Hostile);
        var failure = new FailureDocument
        {
            Test = name,
            Assembly = "/tmp/a.dll",
            SourceAssembly = "/tmp/a.dll",
            Kind = FailureKind.LockOrderDeadlock,
            Sentence = $"Task `{Hostile}` waits for `{Hostile}`: {Hostile}",
            Resources = [Hostile],
            Cycle = [new WaitLink(Hostile, Hostile, site, Hostile)],
            Holdings = [new Holding(Hostile, Hostile, 1, site, false)],
            Waitings = [new Waiting(Hostile, $"waits for `{Hostile}`", site)],
            Message = Hostile,
            Replay = new ReplayCommands($"systematic replay {Hostile}", $"coyote replay {Hostile}"),
        };
        var summary = new SummaryDocument
        {
            Run = Hostile,
            Options = new SummaryOptions(1, "portfolio", null, null, null, null, Hostile),
            Tests = [new SummaryTest(name, "bug", false, "LockOrderDeadlock", "pass", false, 1, 1, 1, "portfolio", 0.1, "x", failure.Sentence, [Hostile], null)],
        };
        return (summary, new Dictionary<string, FailureDocument> { [name] = failure });
    }
}
