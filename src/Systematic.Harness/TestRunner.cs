using System.Diagnostics;
using System.Reflection;
using Microsoft.Coyote;
using Microsoft.Coyote.Actors;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.SystematicTesting;
using Systematic.Analysis;
using Systematic.Harness.Exploration;
using Systematic.Harness.Reports;
using Systematic.Recording;

namespace Systematic.Harness;

/// <summary>How far the exploration of a test has got (named apart from <see cref="System.Progress{T}"/>).</summary>
internal sealed record ExplorationProgress(string Test, long Iterations, TimeSpan Elapsed);

/// <summary>Explores one test under Coyote's TestingEngine and explains what it finds.</summary>
internal sealed class TestRunner(ExplorationOptions options, Action<ExplorationProgress>? progress = null, string replayTool = FailureReport.DefaultTool)
{
    /// <summary>Gets the options.</summary>
    public ExplorationOptions Options { get; } = options;

    /// <summary>Builds the Coyote configuration for <paramref name="options"/> and <paramref name="seed"/>.</summary>
    public static Configuration Configure(ExplorationOptions options, uint seed)
    {
        var strategy = options.StrategyEntry;
        var configuration = Configuration.Create()
            .WithTestingIterations(options.Iterations)
            .WithTelemetryEnabled(false)
            .WithRandomGeneratorSeed(seed)

            // Hitting the step bound is a hang only under a fair scheduler: an unfair one may starve a polling task by design.
            .WithFailureOnMaxStepsBoundEnabled(strategy.Fair);
        configuration = strategy.Apply(configuration, options.StrategyBound ?? strategy.DefaultBound ?? 0);
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

    /// <summary>Creates a TestingEngine for <paramref name="test"/>: its <see cref="TestCase.Body"/> when it has one, else its method.</summary>
    internal static TestingEngine CreateEngine(Configuration configuration, TestCase test)
    {
        // A delegate is no instrumented [Test] method: its iterations are begun and checked here, as the probes would.
        var name = test.Name;
        var engine = test.Body switch
        {
            null => Create(configuration, test.Method, test.Instance),
            Func<Task> body => TestingEngine.Create(configuration, () =>
            {
                TestProbes.Begin(name);
                return TestProbes.EndAfter(body());
            }),
            Action body => TestingEngine.Create(configuration, () =>
            {
                TestProbes.Begin(name);
                body();
                TestProbes.End();
            }),
            var other => throw new HarnessException($"Cannot explore a {other.GetType().Name}: pass a Func<Task> or an Action."),
        };
        engine.SetLogger(new SilentLogger());
        return engine;
    }

    private static TestingEngine Create(Configuration configuration, MethodInfo method, Func<object>? make = null)
    {
        var parameters = method.GetParameters();
        var returnsTask = typeof(Task).IsAssignableFrom(method.ReturnType);
        var takesRuntime = parameters.Length == 1 && parameters[0].ParameterType == typeof(ICoyoteRuntime);
        var takesActors = parameters.Length == 1 && parameters[0].ParameterType == typeof(IActorRuntime);
        if (parameters.Length > 1 || (parameters.Length == 1 && !takesRuntime && !takesActors) || (method.ReturnType != typeof(void) && !returnsTask))
        {
            throw new HarnessException($"Test {method.DeclaringType}.{method.Name} has a signature Coyote cannot run: use () or (ICoyoteRuntime), returning void or Task.");
        }

        // An instance method gets a fresh instance every iteration, made before the iteration starts (outside the
        // controlled run), as `coyote replay` makes its one instance: state never leaks from one schedule to the next.
        var instances = method.IsStatic ? null : new TestInstances(method, make);
        Delegate Make(Type type) => instances is null ? method.CreateDelegate(type) : instances.Bind(type);

        TestingEngine engine;
        if (returnsTask)
        {
            engine = takesRuntime ? TestingEngine.Create(configuration, (Func<ICoyoteRuntime, Task>)Make(typeof(Func<ICoyoteRuntime, Task>)))
                : takesActors ? TestingEngine.Create(configuration, (Func<IActorRuntime, Task>)Make(typeof(Func<IActorRuntime, Task>)))
                : method.ReturnType == typeof(Task) ? TestingEngine.Create(configuration, (Func<Task>)Make(typeof(Func<Task>)))

                // Task<T>: call through a Func<Task> adapter.
                : TestingEngine.Create(configuration, () => (Task)method.Invoke(instances?.Current, null)!);
        }
        else
        {
            engine = takesRuntime ? TestingEngine.Create(configuration, (Action<ICoyoteRuntime>)Make(typeof(Action<ICoyoteRuntime>)))
                : takesActors ? TestingEngine.Create(configuration, (Action<IActorRuntime>)Make(typeof(Action<IActorRuntime>)))
                : TestingEngine.Create(configuration, (Action)Make(typeof(Action)));
        }

        instances?.Attach(engine);
        return engine;
    }

    /// <summary>Explores <paramref name="test"/>; failures are written under <paramref name="runDir"/>.</summary>
    /// <remarks>
    /// The iterations run in segments: when the lock orders of the iterations so far first form a cycle, exploration
    /// stops, and the schedule that cycle implies is built and run (a directed confirmation); if it does not deadlock,
    /// exploration goes on with the rest of the iterations.
    /// </remarks>
    public TestOutcome Run(TestCase test, string runDir, CancellationToken cancellation = default)
    {
        if (this.Options.PreemptionBound is { } bound)
        {
            return this.RunBounded(test, (int)bound, runDir, cancellation);
        }

        var seed = this.Options.Seed ?? (uint)Random.Shared.Next(1, int.MaxValue);
        var clock = Stopwatch.StartNew();
        var graph = this.Options.Predict ? new LockOrderGraph() : null;
        var tried = new HashSet<string>(StringComparer.Ordinal);
        var uncontrolled = new SortedSet<string>(StringComparer.Ordinal);
        var notes = new List<string>();
        long done = 0;
        for (var segment = 0u; done < this.Options.Iterations; segment++)
        {
            var explored = this.Explore(test, seed + (segment * SeedSpacing.Segment), this.Options.Iterations - done, done, graph, tried, clock, cancellation);
            uncontrolled.UnionWith(explored.Uncontrolled);
            var before = done;
            done += explored.Iterations;
            if (explored.Bug is { } bug)
            {
                return this.FoundBySearch(test, this.Passing(test, done, seed, uncontrolled, graph), bug, before + explored.Iterations, runDir, seed, clock, cancellation);
            }

            if (explored.Cycle is not { } cycle || cancellation.IsCancellationRequested)
            {
                break;
            }

            // The cycle the passing schedules imply: build its schedule and run it.
            tried.Add(cycle.Key);
            var (directed, plan, ran) = this.Directed(test, cycle, seed);
            done += ran;
            if (directed is { } found)
            {
                return this.ConfirmedByPlan(test, this.Passing(test, done, seed, uncontrolled, graph), cycle, found, plan, runDir, seed, clock, cancellation);
            }

            notes.Add($"The schedule the cycle predicted at iteration {cycle.FirstSeenIteration} implies could not be built (its tasks' interleaving is constrained): searched instead.");
        }

        var result = this.Passing(test, Math.Min(done, this.Options.Iterations), seed, uncontrolled, graph);
        clock.Stop();
        result = result with { Elapsed = clock.Elapsed };
        var cycles = graph?.Cycles() ?? [];
        return cycles.Count == 0 || cancellation.IsCancellationRequested ? result : this.Confirm(test, result, cycles[0], runDir, seed, clock, notes);
    }

    /// <summary>The outcome of <paramref name="test"/> so far when nothing failed: its iterations, seed, strategy, uncontrolled calls and first predicted cycle.</summary>
    private TestOutcome Passing(TestCase test, long iterations, uint seed, IEnumerable<string> uncontrolled, LockOrderGraph? graph) => new()
    {
        Test = test.Name,
        Outcome = Outcome.Passed,
        Expected = test.Expected,
        Iterations = iterations,
        Seed = seed,
        Strategy = this.Options.Strategy ?? StrategyTable.Portfolio,
        Uncontrolled = [.. uncontrolled],
        PredictedAt = graph?.Cycles() is { Count: > 0 } seen ? seen[0].FirstSeenIteration : null,
    };

    /// <summary>A bug the search found at iteration <paramref name="at"/>: diagnosed, minimized and written.</summary>
    private TestOutcome FoundBySearch(TestCase test, TestOutcome passing, (string Message, string Trace, string Readable) bug, long at, string runDir, uint seed, Stopwatch clock, CancellationToken cancellation)
    {
        var (diagnosis, log) = Diagnose(test, bug.Message);
        var outcome = passing with { Outcome = Outcome.Bug, Kind = diagnosis.Kind, FirstBugIteration = at, Diagnosis = diagnosis, Schedule = ScheduleStats.Of(bug.Trace, log) };
        return this.Finish(test, outcome, log, bug.Trace, bug.Readable, runDir, seed, clock, cancellation);
    }

    /// <summary>The lock-order deadlock the schedule a predicted <paramref name="cycle"/> implies reached: said so, minimized and written with its plan.</summary>
    private TestOutcome ConfirmedByPlan(TestCase test, TestOutcome passing, PotentialCycle cycle, (long Iterations, Diagnosis? Diagnosis, IterationLog? Log, string Trace, string Readable) found, DirectedPlan plan, string runDir, uint seed, Stopwatch clock, CancellationToken cancellation)
    {
        var confirmed = found.Diagnosis! with
        {
            Consequences = [.. found.Diagnosis!.Consequences, $"Predicted at iteration {cycle.FirstSeenIteration} from the lock orders of passing schedules; confirmed in the next iteration by the schedule the prediction implies (each task of the cycle takes its first lock, then waits for the next)."],
        };
        var outcome = passing with { Outcome = Outcome.Bug, Kind = confirmed.Kind, Diagnosis = confirmed, FirstBugIteration = passing.Iterations, Schedule = ScheduleStats.Of(found.Trace, found.Log) };
        return this.Finish(test, outcome, found.Log, found.Trace, found.Readable, runDir, seed, clock, cancellation, plan);
    }

    /// <summary>
    /// Runs every schedule of <paramref name="test"/> with at most <paramref name="bound"/> preemptions, fewest first,
    /// up to <see cref="ExplorationOptions.Iterations"/> schedules: a pass says exactly what was covered; the first failure is
    /// minimal by construction.
    /// </summary>
    private TestOutcome RunBounded(TestCase test, int bound, string runDir, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var search = new BoundedSearch(bound) { Budget = this.Options.Iterations, Mark = () => Recorder.Position };
        var uncontrolled = new SortedSet<string>(StringComparer.Ordinal);
        var found = BoundedExploration.Run(test, this.Options, search, null, uncontrolled, cancellation);
        var coverage = new BoundedCoverage(bound, search.Schedules, search.CompleteBelow, search.SchedulesByPreemptions, search.Diverged);
        var outcome = new TestOutcome
        {
            Test = test.Name,
            Outcome = Outcome.Passed,
            Expected = test.Expected,
            Iterations = search.Schedules,
            Seed = this.Options.Seed ?? 0,
            Strategy = $"bounded({bound})",
            Uncontrolled = [.. uncontrolled],
            Bounded = coverage,
        };
        if (found is null)
        {
            return outcome with { Elapsed = clock.Elapsed };
        }

        var minimal = MinimalSchedule.Of(search, found);
        outcome = outcome with
        {
            Outcome = Outcome.Bug,
            Kind = found.Diagnosis.Kind,
            Diagnosis = found.Diagnosis,
            FirstBugIteration = search.Schedules,
            Schedule = found.Stats,
            Minimal = minimal,
            Elapsed = clock.Elapsed,
        };
        var folder = FailureReport.Write(runDir, test, outcome, found.Log, found.Trace, found.Readable, new MinimalRun(found.Trace, found.Log), tool: replayTool);
        return outcome with { ReportDir = folder };
    }


    /// <summary>Iterations the schedule a predicted cycle implies is tried for.</summary>
    private const uint DirectedIterations = 3;

    /// <summary>One segment of exploration: the iterations it ran, the bug it found, or the first new lock-order cycle it stopped at.</summary>
    private sealed record Segment(long Iterations, IReadOnlyList<string> Uncontrolled, (string Message, string Trace, string Readable)? Bug, PotentialCycle? Cycle);

    private Segment Explore(TestCase test, uint seed, long iterations, long before, LockOrderGraph? graph, HashSet<string> tried, Stopwatch clock, CancellationToken cancellation)
    {
        using var engine = CreateEngine(Configure(this.Options with { Iterations = (uint)iterations }, seed), test);
        long started = 0;
        var lastReport = TimeSpan.Zero;
        PotentialCycle? cycle = null;
        engine.RegisterStartIterationCallBack(i =>
        {
            started = i + 1;

            // With a time budget Coyote ignores the iteration count: keep both limits.
            if (cancellation.IsCancellationRequested || started > iterations || cycle is not null)
            {
                engine.Stop();
            }

            if (progress is not null && clock.Elapsed - lastReport > TimeSpan.FromMilliseconds(500))
            {
                lastReport = clock.Elapsed;
                progress(new ExplorationProgress(test.Name, before + started, clock.Elapsed));
            }
        });

        var calls = new SortedSet<string>(StringComparer.Ordinal);
        engine.RegisterEndIterationCallBack(i =>
        {
            NoteUncontrolled(test, calls);
            if (graph is not null && Recorder.Last is { } log && log.Test == test.Name && graph.Observe(log, before + i + 1) &&
                graph.Cycles().FirstOrDefault(c => !tried.Contains(c.Key)) is { } first)
            {
                // A cycle no schedule so far deadlocked on: build its schedule now rather than wait for chance.
                cycle = first;
                engine.Stop();
            }
        });

        engine.Run();
        var report = engine.TestReport;
        var ran = Math.Min(Math.Max(Explored(report), started), iterations);
        var bug = report.NumOfFoundBugs > 0 ? (report.BugReports.FirstOrDefault() ?? "bug", engine.ReproducibleTrace, engine.ReadableTrace) : ((string, string, string)?)null;
        // Coyote names what it saw by type and method (`System.Threading.ReaderWriterLockSlim.EnterReadLock`); the probes also say where.
        var coyote = report.UncontrolledInvocations.Where(i => !calls.Any(c => SameApi(i, c))).ToList();
        return new Segment(ran, [.. coyote, .. calls], bug, bug is null ? cycle : null);

        static bool SameApi(string invocation, string call)
        {
            var api = call.Split(" at ", 2)[0];
            api = api.StartsWith("new ", StringComparison.Ordinal) ? api[4..] + "..ctor" : api;
            return invocation.EndsWith("." + api, StringComparison.Ordinal);
        }
    }

    /// <summary>Runs the schedule <paramref name="cycle"/> implies; returns the lock-order deadlock it reaches (if it is the predicted one), the plan that built it, and the iterations run.</summary>
    private ((long Iterations, Diagnosis? Diagnosis, IterationLog? Log, string Trace, string Readable)? Found, DirectedPlan Plan, long Iterations) Directed(TestCase test, PotentialCycle cycle, uint seed)
    {
        var plan = new DirectedPlan(cycle.Edges.Select(e => (e.From, e.HeldSite)).ToList());
        using var scope = Recorder.Attach(new RecorderSettings { Directed = plan });
        var search = Search(test, Configure(this.Options with { Strategy = "random", StrategyBound = null, Iterations = DirectedIterations, Timeout = null }, seed));
        var predicted = cycle.Locks.ToHashSet(StringComparer.Ordinal);
        return search.Diagnosis is { Kind: FailureKind.LockOrderDeadlock } diagnosis && diagnosis.Resources.All(predicted.Contains)
            ? (search, plan, search.Iterations)
            : (null, plan, search.Iterations);
    }

    private TestOutcome Finish(TestCase test, TestOutcome outcome, IterationLog? log, string trace, string readable, string runDir, uint seed, Stopwatch clock, CancellationToken cancellation, DirectedPlan? plan = null)
    {
        (MinimalSchedule Info, string Trace, IterationLog? Log)? minimal = null;
        if (this.Options.Minimize && !cancellation.IsCancellationRequested && outcome.Diagnosis!.Kind is not (FailureKind.Hang or FailureKind.Crashed or FailureKind.Uncontrolled))
        {
            var shrinking = Stopwatch.StartNew();
            minimal = Minimizer.Minimize(test, outcome.Diagnosis, this.Options, seed, cancellation);
            minimal = minimal is { } found ? found with { Info = found.Info with { Seconds = shrinking.Elapsed.TotalSeconds } } : null;
        }

        clock.Stop();
        outcome = outcome with { Minimal = minimal?.Info, Elapsed = clock.Elapsed };
        var folder = FailureReport.Write(runDir, test, outcome, log, trace, readable, minimal is { } m ? new MinimalRun(m.Trace, m.Log) : null, plan, replayTool);
        return outcome with { ReportDir = folder };
    }

    /// <summary>One more exploration of <paramref name="test"/> (for confirmation, minimization or replay): the iterations it ran and, if it failed, the diagnosis, recording and trace.</summary>
    internal static (long Iterations, Diagnosis? Diagnosis, IterationLog? Log, string Trace, string Readable) Search(TestCase test, Configuration configuration)
    {
        using var engine = CreateEngine(configuration, test);
        engine.Run();
        var iterations = Explored(engine.TestReport);
        if (engine.TestReport.NumOfFoundBugs == 0)
        {
            return (iterations, null, null, "", "");
        }

        var (diagnosis, log) = Diagnose(test, engine.TestReport.BugReports.First());
        return (iterations, diagnosis, log, engine.ReproducibleTrace, engine.ReadableTrace);
    }

    /// <summary>Adds the uncontrolled calls the iteration of <paramref name="test"/> that just ended made to <paramref name="calls"/>.</summary>
    internal static void NoteUncontrolled(TestCase test, ISet<string> calls)
    {
        if (Recorder.Last is { } last && last.Test == test.Name)
        {
            foreach (var call in last.UncontrolledCalls)
            {
                calls.Add(call.ToString());
            }
        }
    }

    private static long Explored(TestReport report) => (long)report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;

    /// <summary>Explains the failure <paramref name="message"/> that just ended a run of <paramref name="test"/> from its iteration's recording, frozen at the failure.</summary>
    internal static (Diagnosis Diagnosis, IterationLog? Log) Diagnose(TestCase test, string message)
    {
        var log = Recorder.Last is { } last && last.Test == test.Name ? last : null;
        if (log is { Frozen: false })
        {
            Recorder.Freeze(message);
        }

        return (Classifier.Classify(log, message), log);
    }

    /// <summary>A lock-order cycle seen across passing iterations: search for a schedule that deadlocks, with strategies that favour preemptions.</summary>
    private TestOutcome Confirm(TestCase test, TestOutcome outcome, PotentialCycle cycle, string runDir, uint seed, Stopwatch clock, IReadOnlyList<string> notes)
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
                Consequences = [.. diagnosis.Consequences, .. notes, $"Predicted from passing schedules at iteration {cycle.FirstSeenIteration}; confirmed by the {strategy} strategy after {searched} more iterations."],
            };
            return this.Finish(test, outcome with { Outcome = Outcome.Bug, Kind = confirmed.Kind, Diagnosis = confirmed, FirstBugIteration = outcome.Iterations + searched, Iterations = outcome.Iterations + searched, Schedule = ScheduleStats.Of(trace, log) }, log, trace, search.Readable, runDir, seed, clock, CancellationToken.None);
        }

        clock.Stop();
        var potential = new Diagnosis(
            FailureKind.PotentialLockOrderDeadlock,
            cycle.Sentence,
            [.. notes, $"Not confirmed: {searched} more iterations with prioritization, delay-bounding and random strategies did not deadlock."],
            cycle.Locks,
            cycle.Edges.Select(e => new WaitLink(e.Task, e.ToName, e.AcquireSite, e.Task)).ToList(),
            [],
            [],
            cycle.Sentence);
        outcome = outcome with { Outcome = Outcome.Bug, Kind = FailureKind.PotentialLockOrderDeadlock, Diagnosis = potential, FirstBugIteration = cycle.FirstSeenIteration, Iterations = outcome.Iterations + searched, Elapsed = clock.Elapsed };
        return outcome with { ReportDir = FailureReport.WritePrediction(runDir, test, outcome) };
    }
}
