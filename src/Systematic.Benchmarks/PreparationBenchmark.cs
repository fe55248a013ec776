using System.Diagnostics;
using System.Globalization;
using System.Text;
using Systematic.Harness.Reports;
using Systematic.Harness;

namespace Systematic.Benchmarks;

/// <summary>
/// Preparation time of a realistic closure: a test project over packages with their own concurrency and a web-host
/// stack (about 30 assemblies to rewrite), prepared cold (a fresh cache: closure, Coyote's rewriter, instrumentation)
/// and warm (nothing changed: the closure is read, the cache key computed and the cached copy checked).
/// </summary>
internal static class PreparationBenchmark
{
    private static readonly (string Package, string Version, string Use)[] Packages =
    [
        ("Nito.AsyncEx.Coordination", "5.1.2", "new Nito.AsyncEx.AsyncLock()"),
        ("Microsoft.VisualStudio.Threading.Only", "18.12.1", "new Microsoft.VisualStudio.Threading.AsyncSemaphore(1)"),
        ("Polly.Core", "8.9.1", "new Polly.ResiliencePipelineBuilder()"),
        ("Microsoft.Extensions.Hosting", "11.0.0", "Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder()"),
        ("System.Reactive", "7.0.0", "System.Reactive.Linq.Observable.Return(1)"),
        ("Serilog", "4.4.0", "new Serilog.LoggerConfiguration()"),
        ("Dapper", "2.1.86", "typeof(Dapper.SqlMapper)"),
    ];

    public static (string Markdown, object Json) Run(string work, int rounds)
    {
        var project = Path.Combine(work, "closure");
        Directory.CreateDirectory(project);
        var references = string.Join("\n", Packages.Select(p => $"    <PackageReference Include=\"{p.Package}\" Version=\"{p.Version}\" />"));
        File.WriteAllText(Path.Combine(project, "Closure.Tests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies>
                <NoWarn>NU1603;NU1701</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.Coyote" Version="1.7.11" />
            {references}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Uses.cs"), $$"""
            public static class Uses
            {
                public static object[] All() => [{{string.Join(", ", Packages.Select(p => p.Use))}}];

                [Microsoft.Coyote.SystematicTesting.Test]
                public static async System.Threading.Tasks.Task Touch()
                {
                    await System.Threading.Tasks.Task.Run(() => All());
                }
            }
            """);
        var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", "Release", "-v", "q", "-nologo"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var buildOutput = build.StandardOutput.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"Could not build the closure project: {buildOutput}");
        }

        var assembly = Path.Combine(project, "bin", "Release", "net10.0", "Closure.Tests.dll");
        var cold = new List<double>();
        var warm = new List<double>();
        PreparedAssembly? prepared = null;
        for (var round = 0; round < rounds; round++)
        {
            var cache = Path.Combine(work, "prep-cache", round.ToString(CultureInfo.InvariantCulture));
            var clock = Stopwatch.StartNew();
            prepared = PreparedAssembly.Prepare(assembly, cache);
            cold.Add(clock.Elapsed.TotalSeconds);
            for (var again = 0; again < 3; again++)
            {
                clock.Restart();
                PreparedAssembly.Prepare(assembly, cache);
                warm.Add(clock.Elapsed.TotalSeconds);
            }
        }

        var rewritten = prepared!.Closure.Where(d => d.IsPrepared).ToList();
        var megabytes = rewritten.Sum(d => new FileInfo(d.Path!).Length) / 1_000_000.0;
        var (c, w) = (Median(cold), Median(warm));
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"A test project over {string.Join(", ", Packages.Select(p => $"{p.Package} {p.Version}"))}: {prepared.Closure.Count} assemblies reached, {rewritten.Count} rewritten and instrumented ({megabytes:0.0} MB), {prepared.Closure.Count - rewritten.Count} left alone. Medians of {cold.Count} cold and {warm.Count} warm preparations, in this process (no process start).").AppendLine();
        md.AppendLine("| | seconds | seconds per MB rewritten |").AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| cold (fresh cache) | {c:0.00} | {c / megabytes:0.00} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| warm (nothing changed) | {w:0.000} | {w / megabytes:0.000} |").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Warm preparation {(w < 1 ? "meets" : "misses")} its goal of under 1 s.").AppendLine();
        return (md.ToString(), new { reached = prepared.Closure.Count, rewritten = rewritten.Count, megabytes, coldSeconds = c, warmSeconds = w, cold, warm });
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
