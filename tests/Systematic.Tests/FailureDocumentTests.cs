using System.Text.Json;
using System.Text.Json.Nodes;
using Systematic.Analysis;
using Systematic.Harness.Reports;
using Systematic.Recording;

namespace Systematic.Tests;

/// <summary><c>failure.json</c> with typed source sites, over hand-built documents: sites written as objects, files of the earlier schema still read.</summary>
[Trait("Tier", "Fast")]
public sealed class FailureDocumentTests
{
    /// <summary>A failure as <c>systematic.failure/1</c> wrote it: every site the instrumenter's <c>file|line|method</c> string.</summary>
    private const string SchemaOne = """
        {
          "schema": "systematic.failure/1",
          "test": "Shop.Tests.Transfer",
          "assembly": "/w/Shop.Tests.dll",
          "sourceAssembly": "/w/Shop.Tests.dll",
          "kind": "LockOrderDeadlock",
          "sentence": "a lock-order cycle",
          "cycle": [ { "waiter": "A", "resource": "ledger", "site": "/src/Ledger.cs|41|Shop.Ledger.Post", "holder": "B" } ],
          "holdings": [ { "resource": "ledger", "task": "B", "permits": 1, "site": "/src/Ledger.cs|12|Shop.Ledger.Open", "taskEnded": false } ],
          "waitings": [ { "task": "A", "waitsFor": "ledger", "site": "/src/Ledger.cs|41|Shop.Ledger.Post" } ],
          "message": "Deadlock detected.",
          "replay": { "systematic": "systematic replay x", "coyote": "coyote replay y" },
          "log": {
            "tasks": [ { "id": 1, "entry": "Shop.Tests.Transfer", "site": null, "parent": 0, "inline": false } ],
            "resources": [ { "id": 1, "kind": "Monitor", "name": "ledger", "site": "/src/Ledger.cs|9|Shop.Ledger..ctor", "initial": 1, "max": 1, "ordinal": 1 } ],
            "events": [ { "seq": 1, "kind": "Acquire", "task": 1, "resource": 1, "site": "|0|Vendor.Pool.Rent", "count": 0, "amount": 1 } ],
            "dropped": 0
          }
        }
        """;

    [Fact]
    public void ADocumentOfTheEarlierSchemaReadsItsSitesAsTypes()
    {
        var failure = Read(SchemaOne);

        Assert.Equal(new SourceSite("/src/Ledger.cs", 41, "Shop.Ledger.Post"), failure.Cycle.Single().Site);
        Assert.Equal(12, failure.Holdings.Single().Site!.Line);
        Assert.Equal("Ledger.cs:41", failure.Waitings.Single().Site!.Short);
        Assert.Equal("/src/Ledger.cs|9|Shop.Ledger..ctor#1", failure.Log!.Resources.Single().Key);
        Assert.Null(failure.Log.Tasks.Single().Site);

        // Code without source lines (a package without a PDB) is named by its method.
        var bare = failure.Log.Events.Single().Site!;
        Assert.False(bare.HasLine);
        Assert.Equal("Vendor.Pool.Rent", bare.Short);
    }

    [Fact]
    public void SitesAreWrittenAsObjectsUnderTheCurrentSchemaAndReadBackEqual()
    {
        var failure = Read(SchemaOne) with { Schema = FailureDocument.CurrentSchema };

        var text = JsonSerializer.Serialize(failure, Json.Options);
        var site = JsonNode.Parse(text)!["cycle"]![0]!["site"]!;

        Assert.Equal("systematic.failure/2", FailureDocument.CurrentSchema);
        Assert.Equal("/src/Ledger.cs", (string?)site["file"]);
        Assert.Equal(41, (int?)site["line"]);
        Assert.Equal("Shop.Ledger.Post", (string?)site["method"]);
        Assert.DoesNotContain("Ledger.cs|41", text, StringComparison.Ordinal);

        var again = Read(text);
        Assert.Equal(failure.Cycle, again.Cycle);
        Assert.Equal(failure.Holdings, again.Holdings);
        Assert.Equal(failure.Log!.Resources.Single().Key, again.Log!.Resources.Single().Key);
        Assert.Equal(failure.Log.Events.Single().Site, again.Log.Events.Single().Site);
    }

    [Fact]
    public void AMalformedSiteIsAClearErrorNamingTheFile()
    {
        var folder = Directory.CreateTempSubdirectory("systematic-failure-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, FailureReport.JsonFile), SchemaOne.Replace("/src/Ledger.cs|41|Shop.Ledger.Post", "Ledger.cs line 41", StringComparison.Ordinal));

            var error = Assert.Throws<Harness.HarnessException>(() => FailureReport.Read(folder));

            Assert.Contains("failure.json is not valid failure JSON", error.Message, StringComparison.Ordinal);
            Assert.Contains("'Ledger.cs line 41' is not a source site", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheEmittedFormIsParsedOnceAndSharedAndMalformedFormsGiveNoSite()
    {
        var emitted = SourceSite.Format("/src/Gate.cs", 7, "Shop.Gate.Enter");

        Assert.Same(SourceSite.Of(emitted), SourceSite.Of(new string(emitted.AsSpan())));
        Assert.Equal(new SourceSite("/src/Gate.cs", 7, "Shop.Gate.Enter"), SourceSite.Of(emitted));
        Assert.Equal(emitted, SourceSite.Of(emitted)!.Key);
        Assert.Null(SourceSite.Of(null));
        Assert.Null(SourceSite.Of("Gate.cs:7"));
        Assert.Null(SourceSite.Of("/src/Gate.cs|seven|Shop.Gate.Enter"));
    }

    private static FailureDocument Read(string json) => JsonSerializer.Deserialize<FailureDocument>(json, Json.Options)!;
}
