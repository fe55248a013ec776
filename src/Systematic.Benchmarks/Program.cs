using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Coyote;
using Systematic.Benchmarks;
using Systematic.Harness.Reports;
using Systematic.Harness;

// Benchmarks of Systematic, every ratio measured in this one run (the machines are shared and noisy).
// Usage: dotnet run -c Release --project src/Systematic.Benchmarks [-- [--quick] [--only SECTION[,SECTION]] [--bounded-budget N]]
// Sections: throughput, time-to-bug, memory, workers, gate, preparation, scale, directed, bounded, stress. A run of all sections writes
// docs/benchmarks.*; a partial one writes to a temporary folder, or with --update replaces its sections in docs/.
Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");
var quick = args.Contains("--quick");
var onlyAt = Array.IndexOf(args, "--only");
var only = onlyAt >= 0 && onlyAt + 1 < args.Length ? args[onlyAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
var budgetAt = Array.IndexOf(args, "--bounded-budget");
var boundedBudget = budgetAt >= 0 && budgetAt + 1 < args.Length ? long.Parse(args[budgetAt + 1], CultureInfo.InvariantCulture) : quick ? 2_000 : BoundedBenchmark.DefaultBudget;
var bench = new Bench(quick, only, args.Contains("--update"), boundedBudget, args);
return bench.Run();

namespace Systematic.Benchmarks
{
    internal sealed class Bench(bool quick, IReadOnlyCollection<string>? only, bool update, long boundedBudget, IReadOnlyList<string> arguments)
    {
        private static readonly string[] Sections = ["throughput", "time-to-bug", "memory", "workers", "gate", "preparation", "scale", "directed", "bounded", "stress"];
        private static readonly string?[] Strategies = [null, "random", "probabilistic", "prioritization", "delay-bounding"];
        private static readonly string[] Configurations = ["Release", "Debug"];
        private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };
        private readonly int seeds = quick ? 5 : 30;
        private readonly uint throughputIterations = quick ? 200u : 1000u;
        private readonly int rounds = quick ? 1 : 3;
        private readonly string work = Path.Combine(Path.GetTempPath(), $"systematic-bench-{Guid.NewGuid():N}"[..28]);
        private readonly StringBuilder markdown = new();
        private readonly Dictionary<string, object> json = new() { ["schema"] = "systematic.benchmarks/1" };

        public int Run()
        {
            if (only?.FirstOrDefault(o => !Sections.Contains(o)) is { } unknown)
            {
                Console.Error.WriteLine($"Unknown section '{unknown}'; use one of: {string.Join(", ", Sections)}.");
                return 2;
            }

            bool Wanted(string section) => only is null || only.Contains(section);
            Directory.CreateDirectory(this.work);
            var catalog = PreparedAssembly.Prepare(RunSession.CatalogPath, Path.Combine(this.work, ".assemblies"));
            var plain = LoadPlain(RunSession.CatalogPath);
            var command = "dotnet run -c Release --project src/Systematic.Benchmarks" + (quick ? " -- --quick" : "");
            this.markdown.AppendLine("# Benchmarks").AppendLine();
            this.markdown.AppendLine(CultureInfo.InvariantCulture, $"Command: `{command}` ({(quick ? "quick mode" : "full mode")}), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
            this.markdown.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, Coyote {Replayer.CoyoteVersion}.").AppendLine();
            this.json["machine"] = new { cores = Environment.ProcessorCount, os = RuntimeInformation.OSDescription, runtime = Environment.Version.ToString(), command };

            if (Wanted("throughput"))
            {
                this.Throughput(catalog, plain);
            }

            var searchMs = Wanted("time-to-bug") || Wanted("stress") ? this.TimeToBug(catalog) : [];
            if (Wanted("memory"))
            {
                this.Memory(catalog);
            }

            if (Wanted("workers"))
            {
                this.Workers();
            }

            if (Wanted("gate"))
            {
                this.Gate();
            }

            if (Wanted("preparation"))
            {
                Section("Preparing a solution's closure", "Cold and warm preparation of a test project's whole closure (see `PreparationBenchmark`).");
                var (md, data) = PreparationBenchmark.Run(this.work, quick ? 1 : 3);
                this.markdown.Append(md);
                this.json["preparation"] = data;
            }

            if (Wanted("scale"))
            {
                Section("A suite of many small tests", "Long-lived workers and reports written once (see `ScaleBenchmark`).");
                var (md, data) = ScaleBenchmark.Run(this.work, quick ? 200 : 1000);
                this.markdown.Append(md);
                this.json["scale"] = data;
            }

            if (Wanted("directed"))
            {
                Section("Directed confirmation against random search", "Iterations and time to a confirmed lock-order deadlock (see `DirectedBenchmark`).");
                var userCode = Configurations.Select(c => Path.Combine(RepoRoot(), "tests", "Samples.UserCode", "bin", c, "net10.0", "Samples.UserCode.dll")).FirstOrDefault(File.Exists);
                var prepared = userCode is null ? null : PreparedAssembly.Prepare(userCode, Path.Combine(this.work, ".assemblies"));
                var (md, data) = DirectedBenchmark.Run(catalog, prepared, this.work, this.seeds);
                this.markdown.Append(md);
                this.json["directed"] = data;
            }

            if (Wanted("bounded"))
            {
                Section("Bounded search (`--preemption-bound`)", "Schedules per preemption count at bounds 0 to 3 for each fixed variant (see `BoundedBenchmark`).");
                var (md, data) = BoundedBenchmark.Run(catalog, boundedBudget);
                this.markdown.Append(md);
                this.json["bounded"] = data;
            }

            // Last: hung uncontrolled runs keep polling on the thread pool and would slow everything measured after them.
            if (Wanted("stress"))
            {
                this.Stress(catalog, plain, searchMs);
            }

            var docs = Path.Combine(RepoRoot(), "docs");
            var folder = only is null || update ? docs : this.work;
            Directory.CreateDirectory(folder);
            if (only is not null && update)
            {
                // Replace just these sections (and their JSON keys) in the published results; the rest stays as measured.
                File.WriteAllText(Path.Combine(folder, "benchmarks.md"), MergeSections(File.ReadAllText(Path.Combine(docs, "benchmarks.md")), this.markdown.ToString(), $"dotnet run -c Release --project src/Systematic.Benchmarks -- {string.Join(' ', arguments)}"));
                var published = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(docs, "benchmarks.json")))!.AsObject();
                foreach (var (key, value) in this.json.Where(j => j.Key is not ("schema" or "machine")))
                {
                    published[key] = JsonSerializer.SerializeToNode(value);
                }

                File.WriteAllText(Path.Combine(folder, "benchmarks.json"), published.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                File.WriteAllText(Path.Combine(folder, "benchmarks.md"), this.markdown.ToString());
                File.WriteAllText(Path.Combine(folder, "benchmarks.json"), JsonSerializer.Serialize(this.json, Indented));
            }
            Console.WriteLine(this.markdown.ToString());
            Console.WriteLine($"Written: {Path.Combine(folder, "benchmarks.md")} and benchmarks.json");
            return 0;
        }

        private void Throughput(PreparedAssembly catalog, Dictionary<string, MethodInfo> plain)
        {
            Section("Throughput: harness vs bare Coyote", $"Each fixed variant, {this.throughputIterations} iterations, same seed and strategy, bare `TestingEngine` on the rewritten catalog and the harness (recording, prediction) on the instrumented copy, interleaved over {this.rounds} round(s); medians.");
            this.markdown.AppendLine("| test | bare it/s | harness it/s | harness / bare |").AppendLine("|---|---|---|---|");
            var rows = new List<object>();
            var ratios = new List<double>();
            foreach (var test in catalog.Tests.Where(t => t.Expected is null))
            {
                var bare = new List<double>();
                var harness = new List<double>();
                for (var round = 0; round < this.rounds + 1; round++)
                {
                    var clock = Stopwatch.StartNew();
                    using (var engine = TestRunner.CreateEngine(TestRunner.Configure(new ExplorationOptions { Iterations = this.throughputIterations }, 17), plain[test.ShortName]))
                    {
                        engine.Run();
                    }

                    var bareRate = this.throughputIterations / clock.Elapsed.TotalSeconds;
                    var outcome = new TestRunner(new ExplorationOptions { Iterations = this.throughputIterations, Seed = 17 }).Run(test, this.RunDir());
                    var harnessRate = outcome.Iterations / outcome.Elapsed.TotalSeconds;
                    if (round > 0)
                    {
                        // Round 0 warms up the JIT and is not counted.
                        bare.Add(bareRate);
                        harness.Add(harnessRate);
                    }
                }

                var (b, h) = (Median(bare), Median(harness));
                ratios.Add(h / b);
                rows.Add(new { test = test.ShortName, bare = b, harness = h, ratio = h / b });
                this.markdown.AppendLine(CultureInfo.InvariantCulture, $"| {test.ShortName} | {b:0} | {h:0} | {h / b:0.00} |");
            }

            this.markdown.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Median ratio {Median(ratios):0.00} (floor: 0.90, i.e. recording costs at most 10%).").AppendLine();
            this.json["throughput"] = new { rows, medianRatio = Median(ratios) };
        }

        private Dictionary<string, double> TimeToBug(PreparedAssembly catalog)
        {
            Section("Time to first bug", $"Each buggy variant and strategy over {this.seeds} seeds spaced by a large prime (1 + k × 1,000,003), 1,000-iteration budget, harness without prediction or minimization; the bug counts only with its declared kind.");
            this.markdown.AppendLine("| test | strategy | found | median it | p90 it | median ms | p90 ms |").AppendLine("|---|---|---|---|---|---|---|");
            var rows = new List<object>();
            var portfolioMs = new Dictionary<string, double>();
            foreach (var test in catalog.Tests.Where(t => t.Expected is not null))
            {
                foreach (var strategy in Strategies)
                {
                    var iterations = new List<double>();
                    var millis = new List<double>();
                    var found = 0;
                    for (var k = 0; k < this.seeds; k++)
                    {
                        var seed = (uint)(1 + (k * 1_000_003L % int.MaxValue));
                        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = seed, Strategy = strategy, Predict = false, Minimize = false }).Run(test, this.RunDir());
                        if (outcome.Kind == test.Expected)
                        {
                            found++;
                            iterations.Add(outcome.FirstBugIteration ?? 0);
                            millis.Add(outcome.Elapsed.TotalMilliseconds);
                        }
                    }

                    var name = strategy ?? "portfolio";
                    if (strategy is null)
                    {
                        portfolioMs[test.ShortName] = millis.Sum();
                    }

                    rows.Add(new { test = test.ShortName, strategy = name, found, seeds = this.seeds, medianIterations = Median(iterations), p90Iterations = P90(iterations), medianMs = Median(millis), p90Ms = P90(millis) });
                    this.markdown.AppendLine(CultureInfo.InvariantCulture, $"| {test.ShortName} | {name} | {found}/{this.seeds} | {Median(iterations):0} | {P90(iterations):0} | {Median(millis):0} | {P90(millis):0} |");
                }
            }

            this.markdown.AppendLine();
            this.json["timeToBug"] = rows;
            return portfolioMs;
        }

        private void Stress(PreparedAssembly catalog, Dictionary<string, MethodInfo> plain, IReadOnlyDictionary<string, double> searchMs)
        {
            Section("Stress baseline", "What people do without this tool: each buggy variant run uncontrolled on the thread pool, over and over, for the same wall time the systematic search took for all seeds (at least 1 s); a run shows the bug when it throws or does not finish within 200 ms. No run leaves a trace to replay.");
            this.markdown.AppendLine("| test | wall time (ms) | runs | runs showing the bug | replayable traces |").AppendLine("|---|---|---|---|---|");
            var rows = new List<object>();
            foreach (var test in catalog.Tests.Where(t => t.Expected is not null))
            {
                var budget = TimeSpan.FromMilliseconds(Math.Max(1000, searchMs.GetValueOrDefault(test.ShortName)));
                var method = plain[test.ShortName];
                var (runs, shown) = (0, 0);
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < budget)
                {
                    runs++;
                    var run = Task.Run(() => method.Invoke(null, null) is Task task ? task : Task.CompletedTask);
                    try
                    {
                        if (!run.Wait(200))
                        {
                            shown++;
                        }
                    }
                    catch (AggregateException)
                    {
                        shown++;
                    }
                }

                rows.Add(new { test = test.ShortName, ms = budget.TotalMilliseconds, runs, shown, replayable = 0 });
                this.markdown.AppendLine(CultureInfo.InvariantCulture, $"| {test.ShortName} | {budget.TotalMilliseconds:0} | {runs} | {shown} | 0 |");
            }

            this.markdown.AppendLine();
            this.json["stress"] = rows;
        }

        private void Memory(PreparedAssembly catalog)
        {
            Section("Memory", "One fixed variant (NoFinallyFixed) run by the harness for 1,000, 5,000 and 10,000 iterations in this process; managed heap after a full collection and the process's peak working set after each.");
            this.markdown.AppendLine("| iterations | managed heap after GC (MB) | peak working set (MB) |").AppendLine("|---|---|---|");
            var rows = new List<object>();
            var test = catalog.Tests.Single(t => t.ShortName == "NoFinallyFixed");
            foreach (var iterations in quick ? new uint[] { 500, 1000, 2000 } : [1000u, 5000u, 10000u])
            {
                new TestRunner(new ExplorationOptions { Iterations = iterations, Seed = 3 }).Run(test, this.RunDir());
                var heap = GC.GetTotalMemory(forceFullCollection: true) / 1e6;
                using var process = Process.GetCurrentProcess();
                var peak = process.PeakWorkingSet64 / 1e6;
                rows.Add(new { iterations, heapMb = heap, peakWorkingSetMb = peak });
                this.markdown.AppendLine(CultureInfo.InvariantCulture, $"| {iterations} | {heap:0.0} | {peak:0} |");
            }

            this.markdown.AppendLine().AppendLine("The recorder keeps one iteration's events at a time and the lock-order graph keeps distinct edges only, so memory does not grow with iterations.").AppendLine();
            this.json["memory"] = rows;
        }

        private void Workers()
        {
            var iterations = quick ? 1000 : 6000;
            var rounds = quick ? 1 : 2;
            var taskset = OperatingSystem.IsLinux() && File.Exists("/usr/bin/taskset") ? "/usr/bin/taskset" : null;
            Section("Workers", $"`systematic test --filter NoFinallyFixed -i {iterations} --no-predict` with 1 and 2 worker processes (a single test's iterations split between workers, distinct seeds); iterations per second of wall time, start-up included; configurations interleaved over {rounds} round(s), medians. By default each worker is pinned to a CPU of its own when there is one worker per CPU (`CpuAffinity`), and a single worker is left to the OS; the other rows show each choice turned the other way.");
            this.markdown.AppendLine("| configuration | workers | pinned | wall time (s) | it/s |").AppendLine("|---|---|---|---|---|");
            var configurations = new List<(string Name, int Workers, string Pinned, string[] Prefix, string[] Extra)>
            {
                ("`--workers 1` (default)", 1, "no", [], []),
                ("`--workers 2` (default)", 2, "one CPU each", [], []),
                ("`--workers 2 --no-pin`", 2, "no", [], ["--no-pin"]),
            };
            if (taskset is not null)
            {
                configurations.Insert(1, ("`taskset -c 0 systematic test --workers 1`", 1, "CPU 0", [taskset, "-c", "0"], []));
            }

            var seconds = configurations.Select(_ => new List<double>()).ToList();
            for (var round = 0; round < rounds; round++)
            {
                for (var c = 0; c < configurations.Count; c++)
                {
                    var (_, workers, _, prefix, extra) = configurations[c];
                    var outdir = Path.Combine(this.work, $"workers-{c}-{round}");
                    string[] args = ["test", "--filter", "NoFinallyFixed", "-i", iterations.ToString(CultureInfo.InvariantCulture), "--seed", "7", "--workers", workers.ToString(CultureInfo.InvariantCulture), "--no-predict", "-o", outdir, .. extra];
                    var (_, wall) = prefix.Length == 0 ? Cli(args) : Run(prefix[0], [.. prefix[1..], "dotnet", Path.Combine(AppContext.BaseDirectory, "systematic.dll"), .. args]);
                    seconds[c].Add(wall);
                }
            }

            var rows = new List<object>();
            var rates = new List<double>();
            for (var c = 0; c < configurations.Count; c++)
            {
                var wall = Median(seconds[c]);
                var rate = iterations / wall;
                rates.Add(rate);
                rows.Add(new { configuration = configurations[c].Name.Replace("`", "", StringComparison.Ordinal), configurations[c].Workers, pinned = configurations[c].Pinned, iterations, seconds = wall, rate });
                this.markdown.AppendLine(CultureInfo.InvariantCulture, $"| {configurations[c].Name} | {configurations[c].Workers} | {configurations[c].Pinned} | {wall:0.0} | {rate:0} |");
            }

            var twoWorkers = rates[configurations.FindIndex(c => c.Name == "`--workers 2` (default)")];
            var defaults = twoWorkers / rates[0];
            var bestSingle = twoWorkers / rates.Take(taskset is null ? 1 : 2).Max();
            var unpinned = rates[^1] / rates[0];
            this.markdown.AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"- 2 workers / 1 worker, both as run by default: **{defaults:0.00}×** (floor: 1.7×).")
                .AppendLine(CultureInfo.InvariantCulture, $"- 2 workers (default) / the faster single worker (pinned by hand or not): {bestSingle:0.00}×.")
                .AppendLine(CultureInfo.InvariantCulture, $"- 2 unpinned workers / 1 unpinned worker: {unpinned:0.00}×.")
                .AppendLine()
                .AppendLine("Coyote runs every operation on a thread of its own and hands each step from thread to thread; unpinned, those threads wake each other across cores, so one engine keeps about 1.3 of 2 cores busy and two engines cannot double throughput. Pinned, a worker's threads hand over on one core.")
                .AppendLine();
            this.json["workers"] = new { rows, speedup = defaults, speedupOverBestSingle = bestSingle, speedupUnpinned = unpinned };
        }

        private void Gate()
        {
            Section("The catalog gate", "`systematic test` on the whole catalog with default options (every buggy variant caught, every fixed variant 1,000 iterations, prediction and minimization on, workers = cores), wall time including worker start-up.");
            var (exit, seconds) = Cli("test", "--seed", "1", "-o", Path.Combine(this.work, "gate"));
            this.markdown.AppendLine(CultureInfo.InvariantCulture, $"Exit code {exit}, {seconds:0.0} s (floor: under 60 s).").AppendLine();
            this.json["gate"] = new { exit, seconds };
        }

        private static (int Exit, double Seconds) Cli(params string[] args) => Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "systematic.dll"), .. args]);

        private static (int Exit, double Seconds) Run(string program, string[] args)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
            return (process.ExitCode, clock.Elapsed.TotalSeconds);
        }

        private void Section(string title, string description) => Section(this.markdown, title, description);

        private static void Section(StringBuilder markdown, string title, string description)
        {
            markdown.Append("## ").AppendLine(title).AppendLine().AppendLine(description).AppendLine();
            Console.WriteLine($"== {title}");
        }

        private string RunDir()
        {
            var dir = Path.Combine(this.work, "runs", Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            return dir;
        }

        private static Dictionary<string, MethodInfo> LoadPlain(string path)
        {
            var context = new TestLoadContext(path);
            var assembly = context.LoadFromAssemblyPath(path);
            return assembly.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(m => m.CustomAttributes.Any(a => a.AttributeType.FullName == "Microsoft.Coyote.SystematicTesting.TestAttribute"))
                .ToDictionary(m => m.Name);
        }

        private static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);

        private static double P90(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(Math.Min(values.Count - 1, (int)Math.Ceiling(values.Count * 0.9) - 1));

        /// <summary>Replaces each <c>## </c> section of <paramref name="fresh"/> in <paramref name="published"/> (appending new ones), noting the partial run.</summary>
        private static string MergeSections(string published, string fresh, string command)
        {
            static List<(string Title, string Body)> Split(string text)
            {
                var parts = new List<(string, string)>();
                foreach (var chunk in ("\n" + text).Split("\n## ").Skip(1))
                {
                    var title = chunk.Split('\n')[0];
                    parts.Add((title, "## " + chunk.TrimEnd() + "\n"));
                }

                return parts;
            }

            var head = published.Split("\n## ")[0].TrimEnd() + "\n";
            var sections = Split(published);
            foreach (var (title, body) in Split(fresh))
            {
                var index = sections.FindIndex(s => s.Title == title);
                var noted = body.TrimEnd() + $"\n\n_(This section: `{command}`, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.)_\n";
                if (index >= 0)
                {
                    sections[index] = (title, noted);
                }
                else
                {
                    sections.Add((title, noted));
                }
            }

            return head + "\n" + string.Join("\n", sections.Select(s => s.Body));
        }

        private static string RepoRoot()
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Systematic.sln")))
                {
                    return dir.FullName;
                }
            }

            return Environment.CurrentDirectory;
        }
    }
}
