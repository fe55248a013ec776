using System.Text.Json;
using System.Text.Json.Nodes;
using Systematic.Recording;

namespace Systematic.Harness.Reports;

/// <summary>
/// SARIF 2.1.0: one result per failure, located at the source line of the waiting or leaking acquire, with the other
/// parties of the cycle as related locations. Unexpected bugs are errors; declared or accepted ones are notes.
/// </summary>
internal static class SarifReport
{
    private static readonly Dictionary<FailureKind, string> Descriptions = new()
    {
        [FailureKind.Leak] = "A permit was taken and never given back.",
        [FailureKind.LockOrderDeadlock] = "Locks taken in opposite orders form a cycle in the wait-for graph.",
        [FailureKind.SelfDeadlock] = "A flow waits for a lock it already holds.",
        [FailureKind.HoldAndWait] = "Every permit is held by tasks that wait on work needing a permit.",
        [FailureKind.OverRelease] = "More releases than acquires: the semaphore's limit is exceeded.",
        [FailureKind.InvariantViolation] = "A specification or assertion failed.",
        [FailureKind.UnhandledException] = "An exception escaped the test.",
        [FailureKind.Hang] = "The test made no progress within its bound.",
        [FailureKind.Deadlock] = "Tasks are blocked for ever on something that is not a resource cycle.",
        [FailureKind.Crashed] = "The test took its process down.",
        [FailureKind.PotentialLockOrderDeadlock] = "Lock orders seen across schedules form a cycle that some schedule may deadlock on.",
        [FailureKind.LostWakeup] = "Tasks wait in Monitor.Wait for a pulse no running task can send.",
        [FailureKind.Uncontrolled] = "Code Coyote does not control took part: the test cannot be explored as written.",
    };

    public static string Render(SummaryDocument summary, IReadOnlyDictionary<string, FailureDocument> failures)
    {
        var results = new JsonArray();
        foreach (var test in summary.Tests.Where(t => t.Outcome == Outcome.Bug && t.Kind is not null))
        {
            results.Add(Result(test, failures.GetValueOrDefault(test.Test)));
        }

        var sarif = new JsonObject
        {
            ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json",
            ["version"] = "2.1.0",
            ["runs"] = new JsonArray(new JsonObject
            {
                ["tool"] = new JsonObject
                {
                    ["driver"] = new JsonObject
                    {
                        ["name"] = "Systematic",
                        ["informationUri"] = "https://github.com/microsoft/coyote",
                        ["semanticVersion"] = "1.0.0",
                        ["rules"] = Rules(),
                    },
                },
                ["results"] = results,
            }),
        };
        return sarif.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonArray Rules()
    {
        var rules = new JsonArray();
        foreach (var (kind, description) in Descriptions)
        {
            rules.Add(new JsonObject
            {
                ["id"] = kind.ToString(),
                ["name"] = kind.ToString(),
                ["shortDescription"] = new JsonObject { ["text"] = description },
                ["defaultConfiguration"] = new JsonObject { ["level"] = "error" },
            });
        }

        return rules;
    }

    private static JsonObject Result(SummaryTest test, FailureDocument? failure)
    {
        var kind = test.Kind!.Value.ToString();
        var (primary, related) = Locations(failure);
        var result = new JsonObject
        {
            ["ruleId"] = kind,
            ["level"] = test.ExpectationMet ? "note" : "error",
            ["message"] = new JsonObject { ["text"] = $"{test.Test}: {test.Diagnosis ?? kind}" },
            ["locations"] = new JsonArray(primary.Select(p => (JsonNode)Location(p.Site, p.Text)).ToArray()),
            ["properties"] = new JsonObject
            {
                ["test"] = test.Test,
                ["expected"] = OutcomeNames.Expected(test.Expected),
                ["accepted"] = test.Accepted,
                ["reportDir"] = test.ReportDir,
                ["replay"] = failure?.Replay.Systematic,
            },
        };
        if (related.Count > 0)
        {
            result["relatedLocations"] = RelatedLocations(related);
        }

        return result;
    }

    private static JsonArray RelatedLocations(List<(SourceSite Site, string Text)> related)
    {
        var relatedArray = new JsonArray();
        var id = 1;
        foreach (var (site, text) in related)
        {
            var location = Location(site, text);
            location["id"] = id++;
            relatedArray.Add(location);
        }

        return relatedArray;
    }

    /// <summary>The primary location (the waiting or leaking acquire) and the other parties.</summary>
    private static (List<(SourceSite Site, string Text)> Primary, List<(SourceSite Site, string Text)> Related) Locations(FailureDocument? failure)
    {
        var sites = new List<(SourceSite Site, string Text)>();
        if (failure is not null)
        {
            foreach (var link in failure.Cycle)
            {
                Add(link.Site, link.Resource is null ? $"{link.Waiter} awaits {link.Holder}" : $"{link.Waiter} waits for {link.Resource}, held by {link.Holder}");
            }

            foreach (var holding in failure.Holdings.Where(h => h.TaskEnded))
            {
                Add(holding.Site, $"{holding.Task} took {holding.Resource} here and finished without releasing it");
            }

            foreach (var waiting in failure.Waitings)
            {
                Add(waiting.Site, $"{waiting.Task} {waiting.WaitsFor}");
            }

            foreach (var e in failure.Log?.Events.Where(e => e.Kind == EventKind.OverRelease) ?? [])
            {
                Add(e.Site, "released without a matching acquire");
            }
        }

        // A leak is located at the leaking acquire, anything else at the first waiting party.
        var ordered = failure?.Kind == FailureKind.Leak ? sites.OrderBy(s => s.Text.Contains("finished without", StringComparison.Ordinal) ? 0 : 1).ToList() : sites;
        var distinct = ordered.DistinctBy(s => (s.Site.File, s.Site.Line)).ToList();
        return (distinct.Take(1).ToList(), distinct.Skip(1).ToList());

        void Add(SourceSite? site, string text)
        {
            if (site is { Line: > 0 })
            {
                sites.Add((site, text));
            }
        }
    }

    private static JsonObject Location(SourceSite site, string text) => new()
    {
        ["physicalLocation"] = new JsonObject
        {
            ["artifactLocation"] = new JsonObject { ["uri"] = Uri(site.File) },
            ["region"] = new JsonObject { ["startLine"] = site.Line },
        },
        ["message"] = new JsonObject { ["text"] = text },
    };

    /// <summary>A path relative to the working directory when it is inside it (as code scanning expects), else a file URI.</summary>
    private static string Uri(string file)
    {
        var full = Path.GetFullPath(file);
        var root = Path.GetFullPath(Environment.CurrentDirectory) + Path.DirectorySeparatorChar;
        return full.StartsWith(root, StringComparison.Ordinal)
            ? string.Join('/', Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar).Select(System.Uri.EscapeDataString))
            : new Uri(full).AbsoluteUri;
    }
}
