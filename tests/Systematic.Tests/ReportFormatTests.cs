using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using Systematic.Analysis;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Tests;

/// <summary>JUnit, SARIF and HTML outputs: their structure, escaping of hostile strings, and the HTML as a browser shows it.</summary>
[Trait("Tier", "Fast")]
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
        Assert.Equal(summary.Tests.Count(t => t.Outcome == Outcome.Bug), results.Count);
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
    public void AFailureOnlyTheTestRunnerCanReplaySaysSoOutsideTheCommandsAndOffersNoDebuggerFlag()
    {
        var (summary, failures) = HostileDocuments();
        var name = failures.Keys.Single();
        var replay = FailureReport.RunnerCommands("/r/Run/T", "Shop.Tests.T", "the body is a delegate");
        failures[name] = failures[name] with { Replay = replay, MinimalReplay = FailureReport.RunnerCommands("/r/Run/T/minimal.trace", "Shop.Tests.T", "the body is a delegate") };

        var markdown = FailureMarkdown.Render(failures[name], null);
        var html = HtmlReport.Render(summary, failures);
        var junit = JUnitReport.Render(summary, failures);

        Assert.Null(replay.Coyote);
        var blocks = markdown.Split("```").Where((_, i) => i % 2 == 1).ToList();
        Assert.Contains(blocks, b => b.Contains("SYSTEMATIC_REPLAY=/r/Run/T dotnet test --filter \"FullyQualifiedName=Shop.Tests.T\"", StringComparison.Ordinal));
        Assert.DoesNotContain(blocks, b => b.Contains("not available", StringComparison.Ordinal) || b.Contains("delegate", StringComparison.Ordinal));
        Assert.Contains("Stock Coyote cannot replay it: the body is a delegate.", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("--break", markdown, StringComparison.Ordinal);
        Assert.Contains("<p>Stock Coyote cannot replay it: the body is a delegate.</p>", html, StringComparison.Ordinal);
        Assert.Contains("Stock Coyote: cannot replay it (the body is a delegate)", junit, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportHtmlShowsTheMinimalScheduleWithItsPreemptionsBeforeTheScheduleFound()
    {
        var (summary, failures) = AbbaDocuments();
        var failure = failures.Values.Single();

        var html = HtmlReport.Render(summary, failures);

        var minimalAt = html.IndexOf("Timeline of the minimal schedule (1 preemption, <code>minimal.trace</code>)", StringComparison.Ordinal);
        var foundAt = html.IndexOf("Timeline of the schedule found (<code>failure.trace</code>)", StringComparison.Ordinal);
        Assert.True(minimalAt >= 0, "no minimal timeline heading");
        Assert.True(foundAt > minimalAt, "the schedule found comes before the minimal one");
        var statementAt = html.IndexOf("<strong>This LockOrderDeadlock needs exactly 1 preemption</strong>: <code>minimal.trace</code> (9 steps); every schedule with fewer (4 of them) was run without it.", StringComparison.Ordinal);
        Assert.InRange(statementAt, minimalAt, foundAt);
        Assert.Equal(2, html.Split("<svg class=\"timeline\"").Length - 1);
        var story = Assert.Single(failure.Minimal!.Stats.Narration);
        Assert.Equal("`Transfer#1` is preempted right after taking `a` at Code.cs:10; `Transfer#2` runs and takes `b` at Code.cs:10.", story);
        var narratedAt = html.IndexOf("<li><code>Transfer#1</code> is preempted right after taking <code>a</code> at Code.cs:10; <code>Transfer#2</code> runs and takes <code>b</code> at Code.cs:10.</li>", StringComparison.Ordinal);
        Assert.InRange(narratedAt, statementAt, foundAt);
        // The schedule found is told by its timeline only: its own preemptions (after releasing `x`) are not narrated.
        Assert.Equal(3, failure.Schedule!.Narration.Count);
        Assert.Contains(failure.Schedule.Narration, line => line.Contains("right after releasing `x`", StringComparison.Ordinal));
        Assert.DoesNotContain("right after releasing <code>x</code>", html, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public void ReportHtmlShowsTheTimelineAndTheWaitForGraphInABrowser()
    {
        const string Chromium = ChromiumFactAttribute.Path;
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: .ci/run installs it (apt-get install chromium).");

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

    /// <summary>A two-lock ABBA found with three preemptions (both transfers also take a shared lock first), and its minimal schedule with one.</summary>
    private static (SummaryDocument Summary, Dictionary<string, FailureDocument> Failures) AbbaDocuments()
    {
        static (LogBuilder Builder, int First, int Second, int A, int B) Start(bool shared)
        {
            var builder = new LogBuilder();
            var (first, second) = (builder.Task("Tests.Transfer"), builder.Task("Tests.Transfer"));
            var (a, b, x) = (builder.Lock("a"), builder.Lock("b"), builder.Lock("x"));
            builder.Await(1, 3, first, second);
            if (shared)
            {
                builder.Acquire(first, x, 5).Release(first, x, 6).Acquire(second, x, 5).Release(second, x, 6);
            }

            return (builder, first, second, a, b);
        }

        var (found, t1, t2, a, b) = Start(shared: true);
        found.Acquire(t1, a, 10).Acquire(t2, b, 10).BlockedOn(t2, a, 11).BlockedOn(t1, b, 11);
        var (least, m1, m2, ma, mb) = Start(shared: false);
        least.Acquire(m1, ma, 10).Acquire(m2, mb, 10).BlockedOn(m2, ma, 11).BlockedOn(m1, mb, 11);
        var (foundLog, minimalLog) = (found.Build(), least.Build());
        var name = "Tests.Abba";
        var failure = new FailureDocument
        {
            Test = name,
            Assembly = "/tmp/a.dll",
            SourceAssembly = "/tmp/a.dll",
            Kind = FailureKind.LockOrderDeadlock,
            Sentence = "A lock-order cycle.",
            Message = "Deadlock detected.",
            Replay = new ReplayCommands("systematic replay f", "coyote replay f"),
            Log = LogDocument.From(foundLog),
            MinimalLog = LogDocument.From(minimalLog),
            Schedule = new ScheduleStats(15, 6, ScheduleStats.Preempted(foundLog)) { Narration = ScheduleStats.Narrate(foundLog) },
            Minimal = new MinimalSchedule("minimal.trace", new ScheduleStats(9, 3, ScheduleStats.Preempted(minimalLog)) { Narration = ScheduleStats.Narrate(minimalLog), Exact = true }, 5) { SearchedBelow = 1, RunWithFewer = 4 },
        };
        var summary = new SummaryDocument
        {
            Run = "abba",
            Options = new SummaryOptions(1, "portfolio", null, null, null, null, "out"),
            Tests = [new SummaryTest(name, Outcome.Bug, true, FailureKind.LockOrderDeadlock, FailureKind.LockOrderDeadlock, true, 1, 1, 1, "portfolio", 0.1, "x", failure.Sentence, ["a", "b"], null)],
        };
        return (summary, new Dictionary<string, FailureDocument> { [name] = failure });
    }

    private static (SummaryDocument Summary, Dictionary<string, FailureDocument> Failures) HostileDocuments()
    {
        var name = $"Hostile.{Hostile.Replace('.', '_')}";
        var site = new Recording.SourceSite($"/src/{Hostile}.cs", 7, Hostile);
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
            Tests = [new SummaryTest(name, Outcome.Bug, false, FailureKind.LockOrderDeadlock, null, false, 1, 1, 1, "portfolio", 0.1, "x", failure.Sentence, [Hostile], null)],
        };
        return (summary, new Dictionary<string, FailureDocument> { [name] = failure });
    }
}

/// <summary>
/// A test that needs headless Chromium: skipped (never passed) on a machine without it, unless in CI, where
/// <c>.ci/run</c> installs it and its absence is a failure.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Where Debian's <c>chromium</c> package puts the browser.</summary>
    public const string Path = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Path) && Environment.GetEnvironmentVariable("CI") is null)
        {
            this.Skip = $"needs headless Chromium at {Path} (apt-get install chromium; .ci/run installs it)";
        }
    }
}
