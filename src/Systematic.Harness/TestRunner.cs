using System.Diagnostics;
using System.Reflection;
using Microsoft.Coyote;
using Microsoft.Coyote.Actors;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.SystematicTesting;
using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Harness;

/// <summary>Progress of the test being explored.</summary>
public sealed record Progress(string Test, long Iterations, TimeSpan Elapsed);

/// <summary>Explores one test under Coyote's TestingEngine and explains what it finds.</summary>
public sealed class TestRunner(RunOptions options, Action<Progress>? progress = null)
{
    /// <summary>Gets the options.</summary>
    public RunOptions Options { get; } = options;

    /// <summary>Builds the Coyote configuration for <paramref name="options"/> and <paramref name="seed"/>.</summary>
    public static Configuration Configure(RunOptions options, uint seed)
    {
        var configuration = Configuration.Create()
            .WithTestingIterations(options.Iterations)
            .WithTelemetryEnabled(false)
            .WithRandomGeneratorSeed(seed)

            // Hitting the step bound is a hang only under a fair scheduler: an unfair one may starve a polling task by design.
            .WithFailureOnMaxStepsBoundEnabled(options.Strategy is null or "portfolio" or "random" or "probabilistic" or "fair-prioritization" or "fair-delay-bounding");
        var bound = options.StrategyBound;
        configuration = options.Strategy switch
        {
            "random" => configuration.WithRandomStrategy(),
            "probabilistic" => configuration.WithProbabilisticStrategy(bound ?? 3),
            "prioritization" => configuration.WithPrioritizationStrategy(false, bound ?? 10),
            "fair-prioritization" => configuration.WithPrioritizationStrategy(true, bound ?? 10),
            "delay-bounding" => configuration.WithDelayBoundingStrategy(false, bound ?? 10),
            "fair-delay-bounding" => configuration.WithDelayBoundingStrategy(true, bound ?? 10),
            "q-learning" => configuration.WithQLearningStrategy(),
            _ => configuration,
        };
        if (options.MaxSteps is { } steps)
        {
            configuration = configuration.WithMaxSchedulingSteps(steps);
        }

        if (options.Timeout is { } timeout)
        {
            configuration = configuration.WithTestingTimeout((int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds)));
        }

        return configuration;
    }

    /// <summary>Creates a TestingEngine for <paramref name="method"/> as <c>coyote test</c> would call it, with Coyote's console output silenced.</summary>
    public static TestingEngine CreateEngine(Configuration configuration, MethodInfo method)
    {
        var engine = Create(configuration, method);
        engine.SetLogger(new SilentLogger());
        return engine;
    }

    private static TestingEngine Create(Configuration configuration, MethodInfo method)
    {
        object? instance = null;
        if (!method.IsStatic)
        {
            instance = Activator.CreateInstance(method.DeclaringType!)
                ?? throw new HarnessException($"Cannot create an instance of {method.DeclaringType} for test {method.Name}.");
        }

        var parameters = method.GetParameters();
        var returnsTask = typeof(Task).IsAssignableFrom(method.ReturnType);
        var takesRuntime = parameters.Length == 1 && parameters[0].ParameterType == typeof(ICoyoteRuntime);
        var takesActors = parameters.Length == 1 && parameters[0].ParameterType == typeof(IActorRuntime);
        if (parameters.Length > 1 || (parameters.Length == 1 && !takesRuntime && !takesActors) || (method.ReturnType != typeof(void) && !returnsTask))
        {
            throw new HarnessException($"Test {method.DeclaringType}.{method.Name} has a signature Coyote cannot run: use () or (ICoyoteRuntime), returning void or Task.");
        }

        Delegate Make(Type type) => instance is null ? method.CreateDelegate(type) : method.CreateDelegate(type, instance);

        if (returnsTask)
        {
            if (takesRuntime)
            {
                return TestingEngine.Create(configuration, (Func<ICoyoteRuntime, Task>)Make(typeof(Func<ICoyoteRuntime, Task>)));
            }

            if (takesActors)
            {
                return TestingEngine.Create(configuration, (Func<IActorRuntime, Task>)Make(typeof(Func<IActorRuntime, Task>)));
            }

            if (method.ReturnType == typeof(Task))
            {
                return TestingEngine.Create(configuration, (Func<Task>)Make(typeof(Func<Task>)));
            }

            // Task<T>: call through a Func<Task> adapter.
            return TestingEngine.Create(configuration, () => (Task)method.Invoke(instance, null)!);
        }

        if (takesRuntime)
        {
            return TestingEngine.Create(configuration, (Action<ICoyoteRuntime>)Make(typeof(Action<ICoyoteRuntime>)));
        }

        if (takesActors)
        {
            return TestingEngine.Create(configuration, (Action<IActorRuntime>)Make(typeof(Action<IActorRuntime>)));
        }

        return TestingEngine.Create(configuration, (Action)Make(typeof(Action)));
    }

    /// <summary>Explores <paramref name="test"/>; failures are written under <paramref name="runDir"/>.</summary>
    public TestOutcome Run(TestCase test, string runDir, CancellationToken cancellation = default)
    {
        var seed = this.Options.Seed ?? (uint)Random.Shared.Next(1, int.MaxValue);
        var strategy = this.Options.Strategy ?? "portfolio";
        var clock = Stopwatch.StartNew();
        var configuration = Configure(this.Options, seed);
        using var engine = CreateEngine(configuration, test.Method);
        long started = 0;
        var lastReport = TimeSpan.Zero;
        engine.RegisterStartIterationCallBack(i =>
        {
            started = i + 1;

            // With a time budget Coyote ignores the iteration count: keep both limits.
            if (cancellation.IsCancellationRequested || started > this.Options.Iterations)
            {
                engine.Stop();
            }

            if (progress is not null && clock.Elapsed - lastReport > TimeSpan.FromMilliseconds(500))
            {
                lastReport = clock.Elapsed;
                progress(new Progress(test.Name, started, clock.Elapsed));
            }
        });

        var graph = this.Options.Predict ? new LockOrderGraph() : null;
        engine.RegisterEndIterationCallBack(i =>
        {
            if (graph is not null && Recorder.Last is { } log && log.Test == test.Name)
            {
                graph.Observe(log, i + 1);
            }
        });

        engine.Run();
        var cycles = graph?.Cycles() ?? [];
        var report = engine.TestReport;
        var iterations = Explored(report);
        var uncontrolled = report.UncontrolledInvocations.OrderBy(s => s, StringComparer.Ordinal).ToList();
        var outcome = new TestOutcome
        {
            Test = test.Name,
            Outcome = report.NumOfFoundBugs > 0 ? Outcome.Bug : Outcome.Passed,
            Expected = test.Expected,
            Iterations = Math.Min(Math.Max(iterations, started), this.Options.Iterations),
            Seed = seed,
            Strategy = strategy,
            Uncontrolled = uncontrolled,
        };

        if (cycles.Count > 0)
        {
            outcome = outcome with { PredictedAt = cycles[0].FirstSeenIteration };
        }

        if (report.NumOfFoundBugs == 0)
        {
            clock.Stop();
            outcome = outcome with { Elapsed = clock.Elapsed };
            return cycles.Count == 0 || cancellation.IsCancellationRequested ? outcome : this.Confirm(test, outcome, cycles[0], runDir, seed, clock);
        }

        var (diagnosis, log) = Diagnose(test, report.BugReports.FirstOrDefault() ?? "bug");
        var trace = engine.ReproducibleTrace;
        outcome = outcome with { Kind = diagnosis.Kind, FirstBugIteration = started, Diagnosis = diagnosis, Schedule = ScheduleStats.Of(trace, log) };
        return this.Finish(test, outcome, log, trace, engine.ReadableTrace, runDir, seed, clock, cancellation);
    }

    private TestOutcome Finish(TestCase test, TestOutcome outcome, IterationLog? log, string trace, string readable, string runDir, uint seed, Stopwatch clock, CancellationToken cancellation)
    {
        (MinimalSchedule Info, string Trace)? minimal = null;
        if (this.Options.Minimize && !cancellation.IsCancellationRequested && outcome.Diagnosis!.Kind is not (FailureKind.Hang or FailureKind.Crashed))
        {
            minimal = Minimizer.Minimize(test, outcome.Diagnosis, this.Options, seed);

            // Keep the shrunk schedule only when it is simpler than the one found.
            if (minimal is { } m && outcome.Schedule is { } original &&
                (m.Info.Stats.Preemptions, m.Info.Stats.Steps).CompareTo((original.Preemptions, original.Steps)) >= 0)
            {
                minimal = null;
            }
        }

        clock.Stop();
        outcome = outcome with { Minimal = minimal?.Info, Elapsed = clock.Elapsed };
        var folder = FailureReport.Write(runDir, test, outcome, log, trace, readable, minimal?.Trace);
        return outcome with { ReportDir = folder };
    }

    /// <summary>One more exploration of <paramref name="test"/> (for confirmation, minimization or replay): the iterations it ran and, if it failed, the diagnosis, recording and trace.</summary>
    internal static (long Iterations, Diagnosis? Diagnosis, IterationLog? Log, string Trace, string Readable) Search(TestCase test, Configuration configuration)
    {
        using var engine = CreateEngine(configuration, test.Method);
        engine.Run();
        var iterations = Explored(engine.TestReport);
        if (engine.TestReport.NumOfFoundBugs == 0)
        {
            return (iterations, null, null, "", "");
        }

        var (diagnosis, log) = Diagnose(test, engine.TestReport.BugReports.First());
        return (iterations, diagnosis, log, engine.ReproducibleTrace, engine.ReadableTrace);
    }

    private static long Explored(TestReport report) => (long)report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;

    /// <summary>Explains the failure <paramref name="message"/> that just ended a run of <paramref name="test"/> from its iteration's recording, frozen at the failure.</summary>
    private static (Diagnosis Diagnosis, IterationLog? Log) Diagnose(TestCase test, string message)
    {
        var log = Recorder.Last is { } last && last.Test == test.Name ? last : null;
        if (log is { Frozen: false })
        {
            Recorder.Freeze(message);
        }

        return (Classifier.Classify(log, message), log);
    }

    /// <summary>A lock-order cycle seen across passing iterations: search for a schedule that deadlocks, with strategies that favour preemptions.</summary>
    private TestOutcome Confirm(TestCase test, TestOutcome outcome, PotentialCycle cycle, string runDir, uint seed, Stopwatch clock)
    {
        clock.Start();
        var budget = Math.Min(this.Options.Iterations, 500u);
        var searched = 0L;
        foreach (var (strategy, bound, offset) in new (string, uint?, uint)[] { ("prioritization", 2, 1), ("delay-bounding", 2, 2), ("random", null, 3) })
        {
            var search = Search(test, Configure(this.Options with { Strategy = strategy, StrategyBound = bound, Iterations = budget }, seed + (offset * 104_729u)));
            searched += search.Iterations;
            if (search.Diagnosis is not { } diagnosis)
            {
                continue;
            }

            var (log, trace) = (search.Log, search.Trace);
            var confirmed = diagnosis with
            {
                Consequences = [.. diagnosis.Consequences, $"Predicted from passing schedules at iteration {cycle.FirstSeenIteration}; confirmed by the {strategy} strategy after {searched} more iterations."],
            };
            return this.Finish(test, outcome with { Outcome = Outcome.Bug, Kind = confirmed.Kind, Diagnosis = confirmed, FirstBugIteration = outcome.Iterations + searched, Iterations = outcome.Iterations + searched, Schedule = ScheduleStats.Of(trace, log) }, log, trace, search.Readable, runDir, seed, clock, CancellationToken.None);
        }

        clock.Stop();
        var potential = new Diagnosis(
            FailureKind.PotentialLockOrderDeadlock,
            cycle.Sentence,
            [$"Not confirmed: {searched} more iterations with prioritization, delay-bounding and random strategies did not deadlock."],
            cycle.Locks,
            cycle.Edges.Select(e => new WaitLink(e.Task, e.ToName, e.AcquireSite, e.Task)).ToList(),
            [],
            [],
            cycle.Sentence);
        outcome = outcome with { Outcome = Outcome.Bug, Kind = FailureKind.PotentialLockOrderDeadlock, Diagnosis = potential, FirstBugIteration = cycle.FirstSeenIteration, Iterations = outcome.Iterations + searched, Elapsed = clock.Elapsed };
        return outcome with { ReportDir = FailureReport.WritePrediction(runDir, test, outcome) };
    }
}
