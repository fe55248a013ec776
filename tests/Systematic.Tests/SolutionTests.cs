using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Systematic.Harness.Reports;
using Systematic.Harness;
using Systematic.Harness.Preparation;

namespace Systematic.Tests;

/// <summary>
/// The layout users have: tests in a project of their own, the code under test in two library projects and a NuGet
/// package (left in the package cache by a class library's build), written for .NET 10 (System.Threading.Lock,
/// Task.WhenAll(a, b)). Every assembly the tests reach is prepared; bugs are found with their kind and replay in both
/// tools; fixed twins pass with nothing uncontrolled.
/// </summary>
[Collection("engine")]
public sealed class SolutionTests
{
    private static readonly Lazy<PreparedAssembly> Prepared = new(() => PreparedAssembly.Prepare(Paths.Solution, Paths.NewTempDir("solution")));

    public static TheoryData<string, FailureKind> Buggy => new()
    {
        { "ReserveWhilePromotingBuggy", FailureKind.LockOrderDeadlock },
        { "DeclinedCardBuggy", FailureKind.Leak },
        { "MutualHandOverBuggy", FailureKind.LockOrderDeadlock },
        { "ReservedEncoderBuggy", FailureKind.SelfDeadlock },
        { "ReloadReentryBuggy", FailureKind.SelfDeadlock },
        { "EmptyScheduleBuggy", FailureKind.Deadlock },
        { "CheckoutWhileRepricingBuggy", FailureKind.LockOrderDeadlock },
        { "HoldTimeoutBuggy", FailureKind.Leak },
        { "CrossingMovesBuggy", FailureKind.LockOrderDeadlock },
    };

    public static TheoryData<string> Fixed => new()
    {
        "ReserveWhilePromotingFixed", "DeclinedCardFixed", "MutualHandOverFixed", "RenderPairFixed", "ReloadReentryFixed", "EmptyScheduleFixed",
        "CheckoutWhileRepricingFixed", "HoldTimeoutFixed", "CrossingMovesFixed",
    };

    [Fact]
    public void EveryAssemblyTheTestsReachIsPreparedFromTheFolderOrThePackageCacheAndTheBuildOutputIsUntouched()
    {
        var folder = Path.GetDirectoryName(Paths.Solution)!;
        var before = HashFolder(folder);

        var prepared = PreparedAssembly.Prepare(Paths.Solution, Paths.NewTempDir("closure"));

        Assert.Equal(before, HashFolder(folder));
        var closure = prepared.Closure.ToDictionary(d => d.Name);
        foreach (var name in new[] { "Booking.Tests", "Booking.Core", "Booking.Infrastructure", "Nito.AsyncEx.Coordination", "Nito.AsyncEx.Tasks", "Nito.Disposables" })
        {
            Assert.True(closure[name].Action == PreparationAction.Rewritten, closure[name].Line);
            var copy = Path.Combine(Path.GetDirectoryName(prepared.Path)!, name + ".dll");
            Assert.True(Instrumentation.Instrumenter.IsCoyoteRewritten(copy), $"{name} is not rewritten");
            Assert.True(Instrumentation.Instrumenter.IsInstrumented(copy), $"{name} is not instrumented");
        }

        // The package is not in the class library's build output: it comes from the NuGet cache, into the copy only.
        Assert.False(File.Exists(Path.Combine(folder, "Nito.AsyncEx.Coordination.dll")));
        Assert.True(closure["Nito.AsyncEx.Coordination"].FromPackageCache && closure["Nito.AsyncEx.Coordination"].IsPackage);
        Assert.False(closure["Booking.Core"].IsPackage);
        Assert.Equal("Coyote", closure["Microsoft.Coyote"].Reason);
        Assert.Equal("Systematic's own", closure["Systematic.Annotations"].Reason);
        Assert.Equal("framework", closure["System.Runtime"].Reason);
        Assert.DoesNotContain(prepared.Closure, d => d.IsWarning);
    }

    [Fact]
    public void AnXunitTestProjectsOutputIsPreparedWithoutTouchingTheTestFrameworkOrTheRuntime()
    {
        var folder = Path.GetDirectoryName(Paths.XunitProject)!;

        var prepared = PreparedAssembly.Prepare(Paths.XunitProject, Paths.NewTempDir("xunit"));

        var copy = Path.GetDirectoryName(prepared.Path)!;
        var closure = prepared.Closure.ToDictionary(d => d.Name);
        Assert.True(closure["Samples.XunitProject"].IsPrepared && closure["Booking.Core"].IsPrepared);
        foreach (var framework in new[] { "xunit.v3.core", "xunit.v3.assert", "Microsoft.Testing.Platform" })
        {
            Assert.Equal("test framework", closure[framework].Reason);
        }

        // Every assembly it did not prepare is in the copy exactly as built.
        foreach (var file in Directory.EnumerateFiles(folder, "*.dll").Where(f => !closure.TryGetValue(Path.GetFileNameWithoutExtension(f), out var d) || !d.IsPrepared))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(copy, Path.GetFileName(file)))), $"{Path.GetFileName(file)} changed");
        }

        Assert.Equal(["MutualHandOverBuggy", "MutualHandOverFixed"], prepared.Tests.Select(t => t.ShortName));
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 300, Seed = 1 }).Run(prepared.Tests[0], Paths.NewTempDir("xunit-run"));
        Assert.Equal(FailureKind.LockOrderDeadlock, outcome.Kind);
    }

    [Theory]
    [MemberData(nameof(Buggy))]
    public void EveryBugIsFoundWithItsKindAndReplaysInSystematicAndStockCoyote(string name, FailureKind kind)
    {
        var test = Prepared.Value.Tests.Single(t => t.ShortName == name);
        Assert.Equal(kind, test.Expected);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 4_000_037 }).Run(test, Paths.NewTempDir(name));

        Assert.True(outcome.Outcome == Outcome.Bug, $"no bug in {outcome.Iterations} iterations");
        Assert.True(kind == outcome.Kind, $"{outcome.Kind}: {outcome.Diagnosis?.Sentence}");
        Assert.Empty(outcome.Uncontrolled);
        Assert.DoesNotContain("no instrumented code started", outcome.Diagnosis!.Sentence, StringComparison.Ordinal);
        var replay = Replayer.Replay(outcome.ReportDir!);
        Assert.True(replay.Reproduced, replay.Explanation);
        var failure = FailureReport.Read(outcome.ReportDir!);
        foreach (var stock in new[] { failure.Replay.Coyote, failure.MinimalReplay?.Coyote }.OfType<string>())
        {
            // From a folder with no tool manifest, as a user's repository: the printed command must work there.
            var (exit, output) = Shell(stock, Path.GetTempPath());
            Assert.True(exit == 2 && output.Contains("Reproduced 1 bug", StringComparison.Ordinal), $"`{stock}` exited {exit}: {output}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixed))]
    public void EveryFixedTwinPassesAThousandIterationsWithNothingUncontrolled(string name)
    {
        var test = Prepared.Value.Tests.Single(t => t.ShortName == name);

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 1000, Seed = 4_000_037 }).Run(test, Paths.NewTempDir(name));

        Assert.True(outcome.Outcome == Outcome.Passed, outcome.Diagnosis?.Sentence);
        Assert.Equal(1000, outcome.Iterations);
        Assert.Empty(outcome.Uncontrolled);
    }

    /// <summary>Stack traces and debuggers find a PDB by the name the assembly records: each prepared assembly must record the name of the PDB next to it.</summary>
    [Fact]
    public void EveryPreparedAssemblyPointsAtThePdbNextToIt()
    {
        var folder = Path.GetDirectoryName(Prepared.Value.Path)!;
        var checkedCount = 0;
        foreach (var pdb in Directory.GetFiles(folder, "*.pdb"))
        {
            var dll = Path.ChangeExtension(pdb, ".dll");
            if (!File.Exists(dll))
            {
                continue;
            }

            using var reader = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(dll));
            var codeView = reader.ReadDebugDirectory().Where(e => e.Type == System.Reflection.PortableExecutable.DebugDirectoryEntryType.CodeView).ToList();
            if (codeView.Count == 0)
            {
                continue;
            }

            var recorded = reader.ReadCodeViewDebugDirectoryData(codeView[0]).Path;
            Assert.Equal(Path.GetFileName(pdb), Path.GetFileName(recorded.Replace('\\', '/')));
            checkedCount++;
        }

        Assert.True(checkedCount >= 3, $"only {checkedCount} assemblies with PDBs in {folder}");
    }

    [Fact]
    public void ThePackagesLockIsTheResourceNotItsInnerMonitor()
    {
        var test = Prepared.Value.Tests.Single(t => t.ShortName == "ReloadReentryBuggy");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 100, Seed = 2 }).Run(test, Paths.NewTempDir("primitive"));

        Assert.Equal(["FareCache._sync"], outcome.Diagnosis!.Resources);
        Assert.Contains("FareCache.cs:", outcome.Diagnosis.Sentence, StringComparison.Ordinal);
        var log = FailureReport.Read(outcome.ReportDir!).Log!;
        Assert.DoesNotContain(log.Resources, r => r.Name.Contains("_mutex", StringComparison.Ordinal));
    }

    [Fact]
    public void ATaskCompletionSourceNoRunningTaskCompletesIsNamedWithWhereItWasCreated()
    {
        var test = Prepared.Value.Tests.Single(t => t.ShortName == "EmptyScheduleBuggy");

        var outcome = new TestRunner(new ExplorationOptions { Iterations = 100, Seed = 2 }).Run(test, Paths.NewTempDir("promise"));

        Assert.Equal(FailureKind.Deadlock, outcome.Kind);
        Assert.StartsWith("`CountShowsAsync` awaits `TaskCompletionSource ScheduleWarmup._ready (Warmup.cs:6)` at Warmup.cs:", outcome.Diagnosis!.Sentence, StringComparison.Ordinal);
        Assert.Contains("no task still running completes it", outcome.Diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void ARerunWithNothingChangedPreparesNothingAndADamagedCopyIsPreparedAgain()
    {
        var cache = Paths.NewTempDir("cache");
        var first = PreparedAssembly.Prepare(Paths.Solution, cache);
        var manifest = Path.Combine(Path.GetDirectoryName(first.Path)!, PreparedCopy.ManifestFile);
        var written = File.GetLastWriteTimeUtc(manifest);

        var second = PreparedAssembly.Prepare(Paths.Solution, cache);

        Assert.Equal(first.Path, second.Path);
        Assert.Contains(second.Notes, n => n.StartsWith("prepared copy reused", StringComparison.Ordinal));
        Assert.Equal(written, File.GetLastWriteTimeUtc(manifest));

        // Emptied, as a full disk or an interrupted copy leaves it: found, and prepared again.
        var library = Path.Combine(Path.GetDirectoryName(first.Path)!, "Booking.Core.dll");
        File.WriteAllBytes(library, []);
        var third = PreparedAssembly.Prepare(Paths.Solution, cache);

        Assert.Contains(third.Notes, n => n.Contains("damaged (Booking.Core.dll has 0 bytes", StringComparison.Ordinal));
        Assert.True(Instrumentation.Instrumenter.IsInstrumented(library));
        var outcome = new TestRunner(new ExplorationOptions { Iterations = 50, Seed = 1 }).Run(third.Tests.Single(t => t.ShortName == "DeclinedCardBuggy"), Paths.NewTempDir("rebuilt"));
        Assert.Equal(FailureKind.Leak, outcome.Kind);
    }

    [Fact]
    public void TheRunSaysWhatItRewroteAndLeftAloneOnTheConsoleAndInTheSummary()
    {
        var outdir = Paths.NewTempDir("closure-cli");

        var (code, output, _) = CliTests.Run("test", Paths.Solution, "--filter", "DeclinedCard", "-i", "50", "--seed", "1", "--in-process", "-o", outdir);

        Assert.Equal(ExitCode.Success, code);
        Assert.Contains("rewritten: Nito.AsyncEx.Coordination (package; reached from the tests", output, StringComparison.Ordinal);
        Assert.Contains("rewritten: Booking.Core (reached from the tests", output, StringComparison.Ordinal);
        Assert.Contains("left alone: Microsoft.Coyote (Coyote)", output, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outdir, "latest", "summary.json")));
        var closure = summary.RootElement.GetProperty("assemblies")[0].GetProperty("closure").EnumerateArray().ToList();
        Assert.Contains(closure, a => a.GetProperty("name").GetString() == "Booking.Infrastructure" && a.GetProperty("action").GetString() == "Rewritten");
        Assert.Contains(closure, a => a.GetProperty("name").GetString() == "Microsoft.Coyote" && a.GetProperty("action").GetString() == "LeftAlone");
    }

    [Fact]
    public void ExcludedAssembliesRunUncontrolledAndIncludeNarrowsTheSet()
    {
        var excluded = PreparedAssembly.Prepare(Paths.Solution, Paths.NewTempDir("exclude"), new PreparationOptions { Exclude = ["Nito.*"] });
        var included = PreparedAssembly.Prepare(Paths.Solution, Paths.NewTempDir("include"), new PreparationOptions { Include = ["Booking.*"] });

        Assert.Equal("excluded by --exclude Nito.*", excluded.Closure.Single(d => d.Name == "Nito.AsyncEx.Coordination").Reason);
        Assert.Equal("excluded by --exclude Nito.*", excluded.Closure.Single(d => d.Name == "Nito.AsyncEx.Tasks").Reason);
        Assert.DoesNotContain(excluded.Closure, d => d.Name == "Nito.Disposables");
        Assert.True(excluded.Closure.Single(d => d.Name == "Booking.Core").IsPrepared);
        Assert.Equal("not matched by any --include", included.Closure.Single(d => d.Name == "Nito.AsyncEx.Coordination").Reason);
        Assert.True(included.Closure.Single(d => d.Name == "Booking.Infrastructure").IsPrepared);
    }

    [Fact]
    public void ARewriteConfigurationNextToTheTestsIsHonoured()
    {
        var folder = CopyOfBuildOutput("config");
        File.WriteAllText(Path.Combine(folder, RewriteConfiguration.FileName), """{ "AssembliesPath": ".", "Assemblies": [ "Booking.Tests.dll", "Booking.Core.dll" ] }""");

        var prepared = PreparedAssembly.Prepare(Path.Combine(folder, "Booking.Tests.dll"), Path.Combine(folder, "cache"));

        Assert.True(prepared.Closure.Single(d => d.Name == "Booking.Core").IsPrepared);
        Assert.Equal($"not listed in {RewriteConfiguration.FileName}", prepared.Closure.Single(d => d.Name == "Booking.Infrastructure").Reason);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("corrupt")]
    [InlineData("include")]
    [InlineData("exclude")]
    [InlineData("primitive")]
    public void BadInputGetsOneLineAndExitCodeOne(string what)
    {
        var folder = CopyOfBuildOutput(what);
        var tests = Path.Combine(folder, "Booking.Tests.dll");
        var extra = new List<string>();
        switch (what)
        {
            case "missing":
                File.Delete(Path.Combine(folder, "Booking.Core.dll"));
                break;
            case "corrupt":
                File.WriteAllText(Path.Combine(folder, "Booking.Core.dll"), "not an assembly");
                break;
            case "primitive":
                // A misspelled declaration would leave the primitive unrecorded without a word.
                File.WriteAllText(Path.Combine(folder, "systematic.primitives.json"), """[{ "type": "Booking.GateLock", "acquire": ["AcquireAsync"], "release": ["Exitt"] }]""");
                break;
            default:
                extra.AddRange([$"--{what}", "Contoso.*"]);
                break;
        }

        var (code, output, error) = CliTests.Run(["test", tests, "--in-process", "-i", "10", "-o", Path.Combine(folder, "reports"), .. extra]);

        Assert.Equal(ExitCode.InputError, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("systematic: ", line, StringComparison.Ordinal);
        Assert.Contains(what switch { "missing" or "corrupt" => "Booking.Core", "primitive" => "declares Exitt on Booking.GateLock, which has no such method (it has AcquireAsync)", _ => "Contoso.*" }, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Running", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAssemblyTheRewriterRejectsIsLeftOutWithAWarningAndTheRunGoesOn()
    {
        var folder = CopyOfBuildOutput("rejected");

        // A PDB Coyote's rewriter cannot read: it is rewritten again without source lines.
        File.WriteAllBytes(Path.Combine(folder, "Booking.Infrastructure.pdb"), RandomNumberGenerator.GetBytes(512));

        // A method body it cannot read (the assembly's metadata is fine, so the runtime still loads it): left out.
        CorruptAMethodBody(Path.Combine(folder, "Booking.Core.dll"), "Booking.TicketPrinter", "get_Printed");

        var outdir = Path.Combine(folder, "reports");
        var (code, output, _) = CliTests.Run("test", Path.Combine(folder, "Booking.Tests.dll"), "--filter", "ReloadReentry", "-i", "100", "--seed", "1", "--in-process", "-o", outdir);

        Assert.Contains("warning: rewritten: Booking.Infrastructure (reached from the tests; without source lines", output, StringComparison.Ordinal);
        Assert.Contains("warning: left alone: Booking.Core (Coyote's rewriter rejects it:", output, StringComparison.Ordinal);
        Assert.Equal(ExitCode.Success, code);
    }

    private static string CopyOfBuildOutput(string name)
    {
        var folder = Paths.NewTempDir(name);
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(Paths.Solution)!))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        return folder;
    }

    /// <summary>Overwrites the IL of one method with an opcode that does not exist, leaving the metadata whole.</summary>
    private static void CorruptAMethodBody(string assembly, string type, string method)
    {
        int rva;
        using (var module = Mono.Cecil.ModuleDefinition.ReadModule(assembly))
        {
            rva = module.GetType(type).Methods.Single(m => m.Name == method).RVA;
        }

        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assembly));
        var section = pe.PEHeaders.SectionHeaders.Single(s => rva >= s.VirtualAddress && rva < s.VirtualAddress + s.VirtualSize);
        var offset = rva - section.VirtualAddress + section.PointerToRawData;
        pe.Dispose();
        var bytes = File.ReadAllBytes(assembly);

        // A tiny header (one byte) or a fat one (twelve): the code follows; 0xFE 0xFF is no opcode.
        var codeStart = offset + ((bytes[offset] & 0x3) == 0x2 ? 1 : 12);
        bytes[codeStart] = 0xFE;
        bytes[codeStart + 1] = 0xFF;
        File.WriteAllBytes(assembly, bytes);
    }

    private static string HashFolder(string folder) => string.Join(
        "\n",
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => $"{f} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));

    private static (int Exit, string Output) Shell(string command, string workingDirectory)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"`{command}` did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }
}
