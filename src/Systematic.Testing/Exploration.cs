using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using Systematic.Analysis;
using Systematic.Harness.Reports;
using Systematic.Harness;
using Systematic.Harness.Preparation;
using Systematic.Instrumentation;

namespace Systematic;

/// <summary>A test to explore: its name (<c>Namespace.Class.Method</c>), its method and, for <see cref="Explore"/>, the delegate.</summary>
internal sealed record Subject(string Name, MethodInfo Method, Delegate? Body)
{
    /// <summary>Gets how an iteration makes the test's instance when not by a public parameterless constructor, or null.</summary>
    public Func<object>? Instance { get; init; }
}

/// <summary>
/// Explores a test in this process (the test runner's), with the harness the <c>systematic</c> command uses: the
/// same recorder, classifier, minimizer and failure folders. One exploration runs at a time per process, as Coyote
/// requires; the test framework may run other tests meanwhile.
/// </summary>
internal static class Exploration
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);
    private static readonly Dictionary<string, (string Id, string Dir)> RunFolders = new(StringComparer.Ordinal);
    private static readonly HashSet<string> Pointed = new(StringComparer.Ordinal);
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string File, DateTime Written, long Length), bool> DiskChecks = new();

    /// <summary>Describes the test an <see cref="Explore"/> call is in: named by the class that holds the body and the calling member.</summary>
    public static Subject Describe(Delegate body, MethodInfo method, string member, string file)
    {
        var type = method.DeclaringType;
        while (type is { DeclaringType: not null } && type.IsDefined(typeof(CompilerGeneratedAttribute), false))
        {
            type = type.DeclaringType;
        }

        var owner = type?.FullName ?? Path.GetFileNameWithoutExtension(file);
        return new Subject($"{owner}.{member}", method, body);
    }

    /// <summary>Explores (or replays) <paramref name="subject"/>; returns the summary line, or throws <see cref="SystematicFailureException"/>.</summary>
    public static async Task<string> RunAsync(Subject subject, ExploreOptions options, Action<string> output, CancellationToken cancellation)
    {
        var manifest = CheckPrepared(subject.Method);
        var run = Options(options);
        var reports = Path.GetFullPath(options.ReportsDirectory ?? Environment.GetEnvironmentVariable("SYSTEMATIC_REPORTS") ?? manifest.ReportsDirectory);
        var test = new TestCase(subject.Name, subject.Method, options.Expected == FailureKind.None ? null : options.Expected, null, PreparedAssembly.InPlace(manifest.Source, manifest.Assemblies))
        {
            Body = subject.Body,
            Instance = subject.Instance,
        };
        foreach (var warning in manifest.Assemblies.Where(d => d.IsWarning))
        {
            output($"Systematic: {warning.Line}");
        }

        await OneAtATime.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var replay = options.Replay ?? Requested(reports, test.Name, output) ?? (Debugger.IsAttached ? LastFailure(reports, test.Name, reproducibleOnly: true) : null);
            return await Task.Factory.StartNew(
                () => replay is null ? Explored(test, run, reports, output, cancellation) : Replayed(test, replay, output),
                cancellation,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    private static string Explored(TestCase test, ExplorationOptions options, string reports, Action<string> output, CancellationToken cancellation)
    {
        var outcome = Explore(test, options, reports, cancellation);
        var how = outcome.Bounded is { } bounded ? bounded.Statement : $"{outcome.Iterations.ToString("N0", CultureInfo.InvariantCulture)} iteration(s)";
        var shrunk = outcome.Minimal is { } least ? $" (of which {least.Seconds:0.00} s finding the failure's fewest preemptions, {least.Iterations.ToString("N0", CultureInfo.InvariantCulture)} schedule(s))" : "";
        var summary = $"Systematic: {how}; strategy {outcome.Strategy}, seed {outcome.Seed}, {outcome.Elapsed.TotalSeconds:0.00} s{shrunk}.";
        output(summary);
        if (outcome.Uncontrolled.Count > 0)
        {
            output($"Systematic: uncontrolled: {string.Join("; ", outcome.Uncontrolled)} (its traces are not guaranteed to reproduce)");
        }

        if (outcome.Outcome == Outcome.Error)
        {
            throw new SystematicFailureException($"Systematic could not explore {test.Name}: {outcome.Error}");
        }

        var diagnosis = outcome.Diagnosis;
        if (outcome.Outcome == Outcome.Bug && diagnosis is not null && outcome.Kind == test.Expected)
        {
            output($"Systematic: found the expected {outcome.Kind} at iteration {outcome.FirstBugIteration}: {diagnosis.Sentence}");
            output($"Systematic: failure folder {outcome.ReportDir}");
            return summary;
        }

        if (outcome.Outcome == Outcome.Bug && diagnosis is not null)
        {
            var failure = Failure(test, outcome, diagnosis);
            output($"Systematic: {outcome.Kind} at iteration {outcome.FirstBugIteration}; failure folder {outcome.ReportDir}");
            throw failure;
        }

        if (test.Expected is { } missed)
        {
            throw new SystematicFailureException($"Expected a {missed}, but {how} found no bug (strategy {outcome.Strategy}, seed {outcome.Seed}).");
        }

        return summary;
    }

    /// <summary>Runs the exploration into the run folder of <paramref name="reports"/>, settling that folder however it ends.</summary>
    private static TestOutcome Explore(TestCase test, ExplorationOptions options, string reports, CancellationToken cancellation)
    {
        var run = RunFolderOf(reports);
        try
        {
            return new TestRunner(options).Run(test, run.Dir, cancellation);
        }
        catch (HarnessException e)
        {
            throw new SystematicFailureException($"Systematic cannot explore {test.Name}: {e.Message}", e);
        }
        finally
        {
            Settle(reports, run);
        }
    }

    /// <summary>The failure the test fails with: the kind and diagnosis, the failure folder, where it was found and how to replay it.</summary>
    private static SystematicFailureException Failure(TestCase test, TestOutcome outcome, Diagnosis diagnosis)
    {
        var expected = test.Expected is { } kind ? $" (expected a {kind})" : "";
        var message = $"{outcome.Kind}: {diagnosis.Sentence}{expected}{Environment.NewLine}" +
            $"Failure folder: {outcome.ReportDir} (report.md, {FailureReport.TraceFile}{(outcome.Minimal is { } minimal ? ", " + minimal.Trace : "")}){Environment.NewLine}" +
            $"Found at iteration {outcome.FirstBugIteration} with strategy {outcome.Strategy}, seed {outcome.Seed}. Replay it: `{FailureReport.ReplayOf(test, outcome.ReportDir!, Path.Combine(outcome.ReportDir!, FailureReport.TraceFile)).Systematic}`, or run this test under a debugger.";
        return new SystematicFailureException(message) { Kind = outcome.Kind ?? FailureKind.None, Diagnosis = diagnosis.Sentence, Folder = outcome.ReportDir };
    }

    private static string Replayed(TestCase test, string path, Action<string> output)
    {
        ReplayResult result;
        try
        {
            result = Replayer.Replay(path, breakOnFailure: Debugger.IsAttached, atKeyStep: step => output($"Systematic: key step: {step}"), test: test);
        }
        catch (HarnessException e)
        {
            throw new SystematicFailureException($"Systematic cannot replay {path}: {e.Message}", e);
        }

        var folder = Path.GetFullPath(Directory.Exists(path) ? path : Path.GetDirectoryName(path)!);
        output($"Systematic: replayed {folder}: {result.Explanation}");
        var kind = result.Replayed?.Kind ?? result.Original.Kind;
        if (result.Reproduced && test.Expected == kind)
        {
            return result.Explanation;
        }

        var sentence = result.Replayed?.Sentence ?? result.Original.Sentence;
        throw new SystematicFailureException(
            result.Reproduced
                ? $"{kind}: {sentence}{Environment.NewLine}Failure folder: {folder} (replayed: {result.Explanation})"
                : $"{result.Original.Kind} not reproduced by the replay of {folder}: {result.Explanation}")
        {
            Kind = kind,
            Diagnosis = sentence,
            Folder = folder,
        };
    }

    /// <summary>
    /// Fails unless the code the test runs was prepared: the test assembly and every assembly the build step prepared
    /// must be the instrumented ones, and every assembly they reference must be one the build step saw.
    /// </summary>
    private static InPlaceManifest CheckPrepared(MethodInfo method)
    {
        var assembly = method.DeclaringType?.Assembly ?? method.Module.Assembly;
        var name = Path.GetFileName(assembly.Location);
        var manifest = InPlaceManifest.TryRead(assembly.Location)
            ?? throw new SystematicFailureException(
                $"{name} was not prepared for Systematic: the Systematic.Testing build step did not run over {Path.GetDirectoryName(assembly.Location)}. " +
                "Reference the Systematic.Testing package from this test project (not only from a library), leave SystematicPrepare unset, and build again (`dotnet build`).");
        if (!IsInstrumented(assembly))
        {
            throw new SystematicFailureException(
                $"{name} runs unprepared: it was copied again after Systematic's build step (or that step was skipped). Build again with `dotnet build` (not `--no-build` after a change), and keep SystematicPrepare unset.");
        }

        // Not yet loaded, but in the folder: an assembly copied over its prepared version (a build of another project
        // into this folder, a copy by hand) would run uncontrolled in this very test and give a false verdict.
        if (InPlacePreparation.Unprepared(manifest, Path.GetDirectoryName(assembly.Location)!, PreparedOnDisk) is [var (copied, file), ..])
        {
            throw new SystematicFailureException($"{copied}.dll runs unprepared (from {file}): it was copied again after Systematic's build step, and the tests would explore code Coyote does not control. Build the test project again (`dotnet build`) so that Systematic's build step prepares it.");
        }

        var decisions = manifest.Assemblies.ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic).GroupBy(a => a.GetName().Name ?? "", StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        foreach (var decision in manifest.Assemblies.Where(d => d.IsPrepared && loaded.ContainsKey(d.Name)))
        {
            var prepared = loaded[decision.Name];
            if (!IsInstrumented(prepared))
            {
                throw new SystematicFailureException($"{decision.Name}.dll runs unprepared (from {prepared.Location}): the tests would explore code Coyote does not control. Build the test project again so that Systematic's build step prepares it.");
            }

            foreach (var reference in prepared.GetReferencedAssemblies())
            {
                // What rewriting and instrumentation add (Coyote, Systematic's recorder) and the framework are not in the closure.
                if (reference.Name is { } referenced && !decisions.ContainsKey(referenced) && !AddedByPreparation(referenced) &&
                    File.Exists(Path.Combine(Path.GetDirectoryName(manifest.Source)!, referenced + ".dll")))
                {
                    throw new SystematicFailureException($"{decision.Name}.dll references {referenced}, which Systematic's build step never saw: the build output changed after it ran. Build the test project again.");
                }
            }
        }

        return manifest;
    }

    /// <summary>Whether the file carries the instrumentation mark; remembered per file version, so each test pays for a file's check once.</summary>
    private static bool PreparedOnDisk(string file)
    {
        var info = new FileInfo(file);
        return DiskChecks.GetOrAdd((file, info.LastWriteTimeUtc, info.Length), key => Instrumenter.IsInstrumented(key.File));
    }

    private static bool AddedByPreparation(string name) =>
        name.StartsWith("Microsoft.Coyote", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Systematic.", StringComparison.OrdinalIgnoreCase);

    private static bool IsInstrumented(Assembly assembly) =>
        assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Any(a => a.Key == Instrumenter.Marker);

    private static ExplorationOptions Options(ExploreOptions options)
    {
        if (options.Iterations <= 0)
        {
            throw new SystematicFailureException($"Iterations must be a positive number, not {options.Iterations}.");
        }

        if (options.Seed < -1 || options.Seed > uint.MaxValue)
        {
            throw new SystematicFailureException($"Seed must be -1 (a fresh one) or a whole number from 0 to {uint.MaxValue}, not {options.Seed}.");
        }

        if (options.MaxSteps < 0 || options.PreemptionBound < -1)
        {
            throw new SystematicFailureException("MaxSteps must be 0 or more and PreemptionBound -1 (none) or more.");
        }

        var run = new ExplorationOptions
        {
            Iterations = (uint)options.Iterations,
            Seed = options.Seed < 0 ? null : (uint)options.Seed,
            Strategy = options.Strategy,
            MaxSteps = options.MaxSteps == 0 ? null : (uint)options.MaxSteps,
            PreemptionBound = options.PreemptionBound < 0 ? null : (uint)options.PreemptionBound,
        };
        try
        {
            run.Validate();
        }
        catch (HarnessException e)
        {
            throw new SystematicFailureException(e.Message, e);
        }

        return run;
    }

    /// <summary>The run folder of this process under <paramref name="reports"/>: made for the first exploration, kept (and <c>latest</c> pointed at it) once a failure is written there, then shared.</summary>
    private static (string Id, string Dir) RunFolderOf(string reports)
    {
        lock (RunFolders)
        {
            if (!RunFolders.TryGetValue(reports, out var run))
            {
                run = Harness.RunFolder.Create(reports);
                RunFolders[reports] = run;
            }

            return run;
        }
    }

    /// <summary>After an exploration: a run folder that holds a failure becomes <c>latest</c>; one still empty is removed, so that runs that find nothing leave nothing.</summary>
    private static void Settle(string reports, (string Id, string Dir) run)
    {
        lock (RunFolders)
        {
            if (Directory.Exists(run.Dir) && Directory.EnumerateFileSystemEntries(run.Dir).Any())
            {
                if (Pointed.Add(run.Dir))
                {
                    Harness.RunFolder.PointLatest(reports, run.Id);
                }

                return;
            }

            RunFolders.Remove(reports);
            try
            {
                Directory.Delete(run.Dir);
            }
            catch (IOException)
            {
                // Gone already, or written meanwhile: left as it is.
            }
        }
    }

    /// <summary>The name of the environment variable that asks every test to replay: <c>last</c> (its last failure) or a failure folder.</summary>
    public const string ReplayVariable = FailureReport.ReplayVariable;

    /// <summary>The failure folder <see cref="ReplayVariable"/> asks <paramref name="test"/> to replay, or null to explore.</summary>
    private static string? Requested(string reports, string test, Action<string> output)
    {
        var requested = Environment.GetEnvironmentVariable(ReplayVariable);
        if (string.IsNullOrWhiteSpace(requested))
        {
            return null;
        }

        if (requested.Trim() == "last")
        {
            // Asked for: the newest failure, even one whose trace is not promised to replay (it says so if it does not).
            var last = LastFailure(reports, test, reproducibleOnly: false);
            output(last is null ? $"Systematic: {ReplayVariable}=last, but {test} has no failure under {reports}: explored instead." : $"Systematic: replaying the last failure, {last}");
            return last;
        }

        var folder = Directory.Exists(requested) ? requested : Path.GetDirectoryName(requested) ?? requested;
        try
        {
            return FailureReport.Read(folder).Test == test ? requested : null;
        }
        catch (HarnessException)
        {
            throw new SystematicFailureException($"{ReplayVariable}={requested} is not a failure folder (or a trace in one).");
        }
    }

    /// <summary>The newest failure folder of <paramref name="test"/> under <paramref name="reports"/> (of those whose trace is promised to replay, when <paramref name="reproducibleOnly"/>), or null.</summary>
    private static string? LastFailure(string reports, string test, bool reproducibleOnly)
    {
        if (!Directory.Exists(reports))
        {
            return null;
        }

        foreach (var run in new DirectoryInfo(reports).EnumerateDirectories().Where(d => d.LinkTarget is null).OrderByDescending(d => d.Name, StringComparer.Ordinal).Take(50))
        {
            foreach (var folder in run.EnumerateDirectories().Where(f => File.Exists(Path.Combine(f.FullName, FailureReport.JsonFile))).OrderByDescending(f => f.CreationTimeUtc))
            {
                try
                {
                    if (FailureReport.Read(folder.FullName) is { } document && document.Test == test && (document.Reproducible || !reproducibleOnly))
                    {
                        return folder.FullName;
                    }
                }
                catch (HarnessException)
                {
                    // A damaged or foreign folder: not a failure of this test.
                }
            }
        }

        return null;
    }
}
