using System.Diagnostics;
using System.Globalization;
using System.Text;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Benchmarks;

/// <summary>
/// A suite of many small tests: a generated assembly of N passing Coyote tests (10 iterations each), run by the
/// default worker pool and in process, for N and 2N tests; and the time the run's reports take to write.
/// </summary>
internal static class ScaleBenchmark
{
    public static (string Markdown, object Json) Run(string work, int tests)
    {
        var small = Build(work, tests / 2);
        var large = Build(work, tests);
        var rows = new List<(int Tests, string Mode, double Seconds)>();
        foreach (var (count, assembly) in new[] { (tests / 2, small), (tests, large) })
        {
            foreach (var mode in new[] { "workers", "in-process" })
            {
                var args = new List<string> { "test", assembly, "-i", "10", "--seed", "1", "--no-predict", "-o", Path.Combine(work, $"scale-{count}-{mode}") };
                if (mode == "in-process")
                {
                    args.Add("--in-process");
                }

                rows.Add((count, mode, Cli(args)));
            }
        }

        // Reports written once from what the tests left: time them alone, on the larger run's summary.
        var (dir, summary) = SummaryDocument.Read(Path.Combine(work, $"scale-{tests}-workers"));
        var clock = Stopwatch.StartNew();
        RunReports.Write(dir, summary);
        var reporting = clock.Elapsed.TotalSeconds;

        double Seconds(int count, string mode) => rows.First(r => r.Tests == count && r.Mode == mode).Seconds;
        var ratio = Seconds(tests, "workers") / Seconds(tests, "in-process");
        var growth = Seconds(tests, "workers") / Seconds(tests / 2, "workers");
        var share = reporting / Seconds(tests, "workers");
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"A generated assembly of {tests / 2} and {tests} passing tests (two tasks share a semaphore; 10 iterations each, `--no-predict`), `systematic test` wall time including start-up.").AppendLine();
        md.AppendLine("| tests | workers (default) s | `--in-process` s |").AppendLine("|---|---|---|");
        foreach (var count in new[] { tests / 2, tests })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {count} | {Seconds(count, "workers"):0.0} | {Seconds(count, "in-process"):0.0} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- workers / in-process at {tests} tests: **{ratio:0.00}** (goal: at most 1.3).");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {tests} tests / {tests / 2} tests, workers: **{growth:0.00}** (goal: at most 2.2, linear).");
        md.AppendLine(CultureInfo.InvariantCulture, $"- writing the run's reports (summary, JUnit, SARIF, HTML) for {tests} tests: {reporting:0.00} s, **{share:P1}** of the run (goal: under 5%).").AppendLine();
        return (md.ToString(), new { tests, rows = rows.Select(r => new { r.Tests, r.Mode, r.Seconds }), ratio, growth, reportingSeconds = reporting, reportingShare = share });
    }

    private static string Build(string work, int tests)
    {
        var project = Path.Combine(work, $"scale{tests}");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, $"Scale{tests}.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.Coyote" Version="1.7.11" />
              </ItemGroup>
            </Project>
            """);
        var code = new StringBuilder("using System.Threading;\nusing System.Threading.Tasks;\nusing Microsoft.Coyote.SystematicTesting;\n\npublic static class Suite\n{\n");
        code.AppendLine("""
                private static async Task Share(SemaphoreSlim gate, int[] counter)
                {
                    await gate.WaitAsync();
                    try
                    {
                        counter[0]++;
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            """);
        for (var i = 0; i < tests; i++)
        {
            code.AppendLine(CultureInfo.InvariantCulture, $$"""
                    [Test]
                    public static async Task Test{{i}}()
                    {
                        var gate = new SemaphoreSlim(1, 1);
                        var counter = new int[1];
                        await Task.WhenAll(new[] { Task.Run(() => Share(gate, counter)), Task.Run(() => Share(gate, counter)) });
                    }

                """);
        }

        File.WriteAllText(Path.Combine(project, "Suite.cs"), code.Append("}\n").ToString());
        var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", "Release", "-v", "q", "-nologo"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = build.StandardOutput.ReadToEnd();
        build.WaitForExit();
        return build.ExitCode == 0
            ? Path.Combine(project, "bin", "Release", "net10.0", $"Scale{tests}.dll")
            : throw new InvalidOperationException($"Could not build the generated suite: {output}");
    }

    private static double Cli(IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "systematic.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["CI"] = "true";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return clock.Elapsed.TotalSeconds;
    }
}
