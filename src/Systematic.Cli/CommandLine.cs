using System.CommandLine;
using System.Runtime.InteropServices;
using Systematic.Harness.Reports;
using Systematic.Harness;
using Systematic.Harness.Preparation;

namespace Systematic.Cli;

/// <summary>The <c>systematic</c> command line: <c>test</c>, <c>list</c> and <c>replay</c>.</summary>
internal static class CommandLine
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");
        var root = Build(output, error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors)
            {
                error.WriteLine($"systematic: {OneLine(e.Message)}");
            }

            return (int)ExitCode.InputError;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    internal static RootCommand Build(TextWriter output, TextWriter error) =>
        new("Systematic: deterministic concurrency testing for semaphores and locks, on Microsoft Coyote.")
        {
            TestCommandLine(output, error), ListCommandLine(output, error), ReplayCommandLine(output, error), DoctorCommandLine(output, error),
            MergeCommandLine(output, error), BaselineCommandLine(output, error), PrepareCommandLine(output, error), WorkerCommandLine(output, error),
        };

    /// <summary><c>systematic test</c>: explore, classify, report.</summary>
    private static Command TestCommandLine(TextWriter output, TextWriter error)
    {
        var assemblies = new Argument<string[]>("assembly") { Arity = ArgumentArity.ZeroOrMore, Description = "Test assemblies with Coyote [Test] methods (default: the built-in catalog)." };
        var iterations = new Option<uint>("--iterations", "-i") { Description = "Iterations per test.", DefaultValueFactory = _ => 1000, CustomParser = r => Whole(r, "--iterations") ?? 0 };
        var strategy = new Option<string?>("--strategy", "-s") { Description = $"Exploration strategy: {string.Join(", ", ExplorationOptions.Strategies)} (default: Coyote's fair portfolio)." };
        strategy.AcceptOnlyFromAmong([.. ExplorationOptions.Strategies]);
        var bound = new Option<uint?>("--strategy-bound", "-sv") { Description = "The strategy's bound (probabilistic level, priority changes or delays).", CustomParser = r => Whole(r, "--strategy-bound") };
        var preemptionBound = new Option<uint?>("--preemption-bound", "-pb") { Description = $"Run every schedule with at most this many preemptions, fewest first (2 or 3 catch most bugs), instead of a random search; --iterations is then the most schedules (default {ExplorationOptions.DefaultScheduleBudget:N0}).", CustomParser = r => Whole(r, "--preemption-bound") };
        var seed = new Option<uint?>("--seed") { Description = "Random seed (default: a fresh one, printed and recorded).", CustomParser = r => Whole(r, "--seed") };
        var maxSteps = new Option<uint?>("--max-steps", "-ms") { Description = "Maximum scheduling steps per iteration.", CustomParser = r => Whole(r, "--max-steps") };
        var timeout = new Option<double?>("--timeout", "-t") { Description = "Wall-clock budget per test, in seconds.", CustomParser = r => Seconds(r, "--timeout") };
        var outdir = Outdir();
        var filter = new Option<string?>("--filter") { Description = "Run tests whose full name contains this text ('|' separates alternatives)." };
        var workers = new Option<int>("--workers") { Description = "Tests run at once, each in a worker process of its own.", DefaultValueFactory = _ => Environment.ProcessorCount, CustomParser = r => (int)Math.Min(int.MaxValue, Whole(r, "--workers") ?? 0) };
        var shard = new Option<string?>("--shard") { Description = "Run only shard I of N (e.g. 2/4): tests are dealt to shards in declaration order, so N jobs cover them once." };
        var baselineFile = new Option<string?>("--baseline") { Description = $"Accepted findings ({Baseline.DefaultFile}): bugs listed there do not fail the run; new ones do." };
        var noPredict = new Option<bool>("--no-predict") { Description = "Do not track lock orders across iterations to predict deadlocks." };
        var noMinimize = new Option<bool>("--no-minimize") { Description = "Do not shrink failing schedules to their fewest preemptions." };
        var noPin = new Option<bool>("--no-pin") { Description = "Do not pin each worker to a CPU of its own (done when there is one worker per CPU, the default)." };
        var inProcess = new Option<bool>("--in-process") { Description = "Run tests in this process instead of isolated workers (a hanging or crashing test then stops the run)." };
        var include = IncludeOption();
        var exclude = ExcludeOption();

        var test = new Command("test", "Explore every Coyote test of the assemblies (default: the catalog), classify each failure and write its trace and report.")
        {
            assemblies, iterations, strategy, bound, preemptionBound, seed, maxSteps, timeout, outdir, filter, workers, noPin, inProcess, shard, baselineFile, noPredict, noMinimize, include, exclude,
        };
        test.SetAction(parse => Guard(error, () =>
        {
            var options = new RunOptions
            {
                Exploration = new ExplorationOptions
                {
                    Iterations = parse.GetValue(preemptionBound) is not null && parse.GetResult(iterations) is null or { Implicit: true } ? ExplorationOptions.DefaultScheduleBudget : parse.GetValue(iterations),
                    PreemptionBound = parse.GetValue(preemptionBound),
                    Strategy = parse.GetValue(strategy),
                    StrategyBound = parse.GetValue(bound),
                    Seed = parse.GetValue(seed),
                    MaxSteps = parse.GetValue(maxSteps),
                    Timeout = parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                    Predict = !parse.GetValue(noPredict),
                    Minimize = !parse.GetValue(noMinimize),
                },
                ReplayTool = ReplayTool(),
                OutDir = parse.GetValue(outdir)!,
                Filter = parse.GetValue(filter),
                Workers = parse.GetValue(workers),
                Isolated = !parse.GetValue(inProcess),
                Pin = !parse.GetValue(noPin),
                Shard = parse.GetValue(shard) is { } s ? RunOptions.ParseShard(s) : null,
                Baseline = parse.GetValue(baselineFile) is { } b ? Baseline.Read(b) : null,
                Preparation = Preparation(parse, include, exclude),
            };
            return TestCommand.Run(parse.GetValue(assemblies) ?? [], options, output);
        }));

        return test;
    }

    /// <summary><c>systematic list</c>.</summary>
    private static Command ListCommandLine(TextWriter output, TextWriter error)
    {
        var outdir = Outdir();
        var listAssembly = new Argument<string[]>("assembly") { Arity = ArgumentArity.ZeroOrMore, Description = "Test assemblies (default: the built-in catalog)." };
        var listInclude = IncludeOption();
        var listExclude = ExcludeOption();
        var list = new Command("list", "List the tests with their descriptions and expected outcomes.") { listAssembly, outdir, listInclude, listExclude };
        list.SetAction(parse => Guard(error, () => ListCommand.Run(parse.GetValue(listAssembly) ?? [], parse.GetValue(outdir)!, Preparation(parse, listInclude, listExclude), output)));

        return list;
    }

    /// <summary><c>systematic replay</c>.</summary>
    private static Command ReplayCommandLine(TextWriter output, TextWriter error)
    {
        var path = new Argument<string>("path") { Description = "A failure folder (coyote-reports/<run>/<test>) or its failure.trace." };
        var breakOption = new Option<bool>("--break", "-b") { Description = "Stop in an attached debugger at each key step of the failure (each wait still blocked at the end, the acquire of a leaked permit, an over-release), in the task that takes it, then at the failure." };
        var replay = new Command("replay", "Re-execute a recorded schedule and check the same failure (kind and resources) happens again.") { path, breakOption };
        replay.SetAction(parse => Guard(error, () => ReplayCommand.Run(parse.GetValue(path)!, parse.GetValue(breakOption), output)));

        return replay;
    }

    /// <summary><c>systematic doctor</c>.</summary>
    private static Command DoctorCommandLine(TextWriter output, TextWriter error)
    {
        var doctorAssemblies = new Argument<string[]>("assembly") { Arity = ArgumentArity.OneOrMore, Description = "Assemblies to examine (plain build outputs or Coyote-rewritten)." };
        var doctorInclude = IncludeOption();
        var doctorExclude = ExcludeOption();
        var doctor = new Command("doctor", "List every call neither Coyote 1.7.11 nor Systematic controls, in the assemblies the tests reach, with file:line and the controlled alternative.") { doctorAssemblies, doctorInclude, doctorExclude };
        doctor.SetAction(parse => Guard(error, () => DoctorCommand.Run(parse.GetValue(doctorAssemblies) ?? [], Preparation(parse, doctorInclude, doctorExclude), output)));

        return doctor;
    }

    /// <summary><c>systematic merge</c>.</summary>
    private static Command MergeCommandLine(TextWriter output, TextWriter error)
    {
        var outdir = Outdir();
        var runs = new Argument<string[]>("run") { Arity = ArgumentArity.OneOrMore, Description = "Run folders (or report folders, whose latest run is used) of the shards to merge." };
        var merge = new Command("merge", "Combine the runs of several shards into one run: one summary, every failure folder.") { runs, outdir };
        merge.SetAction(parse => Guard(error, () =>
        {
            var (runDir, summary) = RunMerger.Merge(parse.GetValue(runs) ?? [], parse.GetValue(outdir)!);
            output.WriteLine($"Merged {summary.Tests.Count} test(s) into {runDir}: {summary.Tests.Count(t => t.ExpectationMet)} as expected.");
            output.WriteLine($"Exit code {(int)summary.ExitCode!} ({summary.ExitCode}).");
            return summary.ExitCode!.Value;
        }));

        return merge;
    }

    /// <summary><c>systematic baseline</c>.</summary>
    private static Command BaselineCommandLine(TextWriter output, TextWriter error)
    {
        var outdir = Outdir();
        var baselineRun = new Argument<string?>("run") { Arity = ArgumentArity.ZeroOrOne, Description = "The run folder whose bugs to accept (default: <outdir>/latest)." };
        var baselineOut = new Option<string>("--file") { Description = "The baseline file to write or update.", DefaultValueFactory = _ => Baseline.DefaultFile };
        var baseline = new Command("baseline", "Accept the bugs of a run: write or update the baseline file that `test --baseline` reads.") { baselineRun, baselineOut, outdir };
        baseline.SetAction(parse => Guard(error, () =>
        {
            var run = parse.GetValue(baselineRun) ?? parse.GetValue(outdir)!;
            var (accepted, added) = Baseline.Update(parse.GetValue(baselineOut)!, run);
            output.WriteLine($"{parse.GetValue(baselineOut)}: {accepted.Accepted.Count} accepted finding(s), {added} new.");
            return ExitCode.Success;
        }));

        return baseline;
    }

    /// <summary><c>systematic prepare</c>: the Systematic.Testing package's build step.</summary>
    private static Command PrepareCommandLine(TextWriter output, TextWriter error)
    {
        var prepareAssembly = new Argument<string>("assembly") { Description = "The test assembly in its build output folder (bin/<configuration>/<framework>/MyTests.dll)." };
        var cache = new Option<string>("--cache") { Description = "Where prepared copies are cached (default: obj/systematic next to the bin folder).", DefaultValueFactory = _ => "" };
        var reports = new Option<string>("--reports") { Description = "Where the tests write their failures (default: coyote-reports in the current folder).", DefaultValueFactory = _ => "coyote-reports" };
        var prepareInclude = IncludeOption();
        var prepareExclude = ExcludeOption();
        var prepare = new Command("prepare", "Prepare a test project's build output where it is, for tests that explore from `dotnet test` (the Systematic.Testing package runs this after each build).") { prepareAssembly, cache, reports, prepareInclude, prepareExclude };
        prepare.SetAction(parse => Guard(error, () => PrepareCommand.Run(parse.GetValue(prepareAssembly)!, parse.GetValue(cache)!, parse.GetValue(reports)!, Preparation(parse, prepareInclude, prepareExclude), output)));

        return prepare;
    }

    /// <summary><c>systematic worker</c> (internal).</summary>
    private static Command WorkerCommandLine(TextWriter output, TextWriter error)
    {
        var serve = new Option<bool>("--serve") { Description = "Read work requests from standard input until it ends." };
        var workerCpu = new Option<int?>("--cpu");
        var worker = new Command("worker", "Explores tests for a parent `systematic test`, one request per input line (internal).") { serve, workerCpu };
        worker.Hidden = true;
        worker.SetAction(parse => Guard(error, () => WorkerCommand.Serve(parse.GetValue(workerCpu), Console.In, output)));

        return worker;
    }

    private static Option<string> Outdir() => new("--outdir", "-o") { Description = "Report folder.", DefaultValueFactory = _ => "coyote-reports" };

    /// <summary>
    /// How the reader of a report runs this command: from a checkout of Systematic's repository (this build lies under
    /// its <c>src/Systematic.Cli</c>), <c>dotnet run --project ... --</c>; installed as a tool, <c>systematic</c>.
    /// </summary>
    internal static string ReplayTool()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (dir.Name == "Systematic.Cli" && File.Exists(Path.Combine(dir.FullName, "Systematic.Cli.csproj")))
            {
                return $"dotnet run --project {FailureReport.Quote(dir.FullName)} --";
            }
        }

        return FailureReport.DefaultTool;
    }

    /// <summary>Parses a non-negative whole number, or records an error in the option's own words.</summary>
    private static uint? Whole(System.CommandLine.Parsing.ArgumentResult result, string option)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError($"{option} takes a non-negative whole number, not '{text}'.");
        return null;
    }

    /// <summary>Parses a positive number of seconds, or records an error in the option's own words.</summary>
    private static double? Seconds(System.CommandLine.Parsing.ArgumentResult result, string option)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0 && double.IsFinite(value))
        {
            return value;
        }

        result.AddError($"{option} takes a positive number of seconds, not '{text}'.");
        return null;
    }

    private static Option<string[]> IncludeOption() => new("--include")
    {
        Description = "Prepare only the assemblies whose names match this glob (repeatable; the test assembly always is). Default: every assembly the tests reach but the framework, Coyote, Systematic and test frameworks.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static Option<string[]> ExcludeOption() => new("--exclude")
    {
        Description = "Never prepare the assemblies whose names match this glob (repeatable): their code runs uncontrolled.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static PreparationOptions Preparation(ParseResult parse, Option<string[]> include, Option<string[]> exclude) => new()
    {
        Include = parse.GetValue(include) ?? [],
        Exclude = parse.GetValue(exclude) ?? [],
    };

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static int Guard(TextWriter error, Func<ExitCode> action)
    {
        try
        {
            return (int)action();
        }
        catch (HarnessException e)
        {
            error.WriteLine($"systematic: {OneLine(e.Message)}");
            return (int)ExitCode.InputError;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"systematic: internal error: {e.GetType().Name}: {e.Message}");
            error.WriteLine(e.StackTrace);
            return (int)ExitCode.InternalError;
        }
    }
}

/// <summary><c>systematic test</c>.</summary>
internal static class TestCommand
{
    public static ExitCode Run(IReadOnlyList<string> assemblies, RunOptions options, TextWriter output)
    {
        var session = new RunSession(options);
        var tests = session.Select(assemblies, out var prepared);
        WritePrepared(prepared, output);
        output.WriteLine($"Running {tests.Count} test(s): {How(options.Exploration)}.");
        using var cancellation = new CancellationTokenSource();
        var interrupt = Interrupter(output, cancellation);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupt();
        };
        Console.CancelKeyPress += onCancel;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            interrupt();
        });

        var progress = new ProgressPrinter(output, tests.Count, options.Exploration.Timeout);
        RunResult result;
        try
        {
            result = session.Run(tests, prepared, progress.Report, progress.Done, cancellation.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        progress.Clear();
        SummaryTable.Write(output, result);
        return result.ExitCode;
    }

    /// <summary>Each prepared assembly: its tests, notes and closure, then what the doctor finds in it.</summary>
    private static void WritePrepared(IReadOnlyList<PreparedAssembly> prepared, TextWriter output)
    {
        foreach (var assembly in prepared)
        {
            output.WriteLine($"{Path.GetFileName(assembly.SourcePath)}: {assembly.Tests.Count} test(s)");
            foreach (var note in assembly.Notes)
            {
                output.WriteLine($"  {note}");
            }

            foreach (var line in ClosureReport.Lines(assembly.Closure))
            {
                output.WriteLine($"  {line}");
            }
        }

        foreach (var assembly in prepared)
        {
            DoctorCommand.Summarize(assembly, output);
        }
    }

    /// <summary>How each test is explored: the bounded search, or the iterations, strategy and seed.</summary>
    private static string How(ExplorationOptions exploration) =>
        exploration.PreemptionBound is { } bound
            ? $"every schedule with at most {BoundedCoverage.Preemptions((int)bound)}, {exploration.Iterations:N0} at most each"
            : $"{exploration.Iterations} iterations each, strategy {exploration.Strategy ?? "portfolio"}{(exploration.Seed is { } s ? $", seed {s}" : "")}";

    /// <summary>What Ctrl-C or SIGTERM does: the first finishes the current test's reports, the second exits at once.</summary>
    private static Action Interrupter(TextWriter output, CancellationTokenSource cancellation)
    {
        var interrupts = 0;
        return () =>
        {
            if (Interlocked.Increment(ref interrupts) > 1)
            {
                output.WriteLine("Interrupted again: exiting now.");
                Environment.Exit((int)ExitCode.Interrupted);
            }

            output.WriteLine("Interrupted: finishing the current test's reports (Ctrl-C again to exit at once)...");
            cancellation.Cancel();
        };
    }
}
/// <summary><c>systematic list</c>.</summary>
internal static class ListCommand
{
    public static ExitCode Run(IReadOnlyList<string> assemblies, string outdir, PreparationOptions preparation, TextWriter output)
    {
        var session = new RunSession(new RunOptions { OutDir = outdir, Preparation = preparation });
        var tests = session.Select(assemblies, out _);
        var width = Math.Min(60, tests.Max(t => t.Name.Length));
        foreach (var group in tests.GroupBy(t => t.Assembly.SourcePath))
        {
            output.WriteLine(Path.GetFileName(group.Key));
            foreach (var test in group)
            {
                var expected = test.Expected is { } kind ? $"fails: {kind}" : "passes";
                output.WriteLine($"  {test.Name.PadRight(width)}  {expected,-24}  {test.Description}");
            }
        }

        output.WriteLine($"{tests.Count} test(s).");
        return ExitCode.Success;
    }
}

/// <summary><c>systematic replay</c>.</summary>
internal static class ReplayCommand
{
    public static ExitCode Run(string path, bool breakOnFailure, TextWriter output)
    {
        if (breakOnFailure && !System.Diagnostics.Debugger.IsAttached)
        {
            output.WriteLine($"Waiting up to 60 s for a debugger to attach to process {Environment.ProcessId} (--break)...");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!System.Diagnostics.Debugger.IsAttached && DateTime.UtcNow < deadline && !Console.IsInputRedirected)
            {
                Thread.Sleep(100);
            }
        }

        var result = Replayer.Replay(path, breakOnFailure, breakOnFailure ? step => output.WriteLine($"Key {step}{(System.Diagnostics.Debugger.IsAttached ? ": stopped in the debugger" : "")}.") : null);
        output.WriteLine(result.Explanation);
        if (!result.Original.Reproducible)
        {
            output.WriteLine("Note: this failure's run hit uncontrolled calls, so its trace is not guaranteed to reproduce.");
        }

        return result.Reproduced ? ExitCode.Success : ExitCode.ExpectationNotMet;
    }
}
