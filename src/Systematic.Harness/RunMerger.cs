using Systematic.Harness.Reports;

namespace Systematic.Harness;

/// <summary>Combines the run folders of several jobs (shards of a CI matrix) into one run: one summary, every failure folder.</summary>
internal static class RunMerger
{
    /// <summary>Merges <paramref name="runs"/> (run folders, or report folders whose <c>latest</c> is used) into a new run under <paramref name="outDir"/>.</summary>
    public static (string RunDir, SummaryDocument Summary) Merge(IReadOnlyList<string> runs, string outDir)
    {
        if (runs.Count == 0)
        {
            throw new HarnessException("Nothing to merge: give the run folders of the shards.");
        }

        var documents = runs.Select(SummaryDocument.Read).ToList();
        var (runId, runDir) = RunFolder.Create(outDir);
        var tests = new List<SummaryTest>();
        foreach (var (dir, summary) in documents)
        {
            foreach (var test in summary.Tests)
            {
                var reportDir = test.ReportDir;
                if (reportDir is not null)
                {
                    // Copy the failure folder; names stay unique in the merged run.
                    var source = Path.Combine(dir, reportDir);
                    var target = RunFolder.Unique(runDir, Path.GetFileName(reportDir));
                    foreach (var file in Directory.Exists(source) ? Directory.GetFiles(source) : [])
                    {
                        File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
                    }

                    reportDir = Path.GetRelativePath(runDir, target);
                }

                tests.Add(test with { ReportDir = reportDir });
            }
        }

        // A test split over several shards appears once: its first bug wins, iterations add up.
        var merged = tests.GroupBy(t => t.Test).Select(g => OutcomeMerge.Of(g.ToList())).ToList();
        var result = new SummaryDocument
        {
            Run = runId,
            Started = documents.Min(d => d.Summary.Started),
            Finished = documents.All(d => d.Summary.Finished is not null) ? documents.Max(d => d.Summary.Finished) : null,
            Interrupted = documents.Any(d => d.Summary.Interrupted),
            Options = documents[0].Summary.Options,
            Assemblies = documents.SelectMany(d => d.Summary.Assemblies).DistinctBy(a => a.Instrumented).ToList(),
            Tests = merged,
            ExitCode = SummaryDocument.Verdict(merged, documents.Any(d => d.Summary.Interrupted)),
        };
        RunReports.Write(runDir, result);
        RunFolder.PointLatest(outDir, runId);
        return (runDir, result);
    }
}
