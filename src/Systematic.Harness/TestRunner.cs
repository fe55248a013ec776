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
public sealed record Progress(string Test, long Iterations, int Bugs, TimeSpan Elapsed);

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
            .WithFailureOnMaxStepsBoundEnabled();
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

    /// <summary>Creates a TestingEngine for <paramref name="method"/> as <c>coyote test</c> would call it.</summary>
    public static TestingEngine CreateEngine(Configuration configuration, MethodInfo method)
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
        engine.SetLogger(new SilentLogger());
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
                progress(new Progress(test.Name, started, 0, clock.Elapsed));
            }
        });

        engine.Run();
        clock.Stop();
        var report = engine.TestReport;
        var iterations = (long)report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        var uncontrolled = report.UncontrolledInvocations.OrderBy(s => s, StringComparer.Ordinal).ToList();
        var outcome = new TestOutcome
        {
            Test = test.Name,
            Outcome = report.NumOfFoundBugs > 0 ? Outcome.Bug : Outcome.Passed,
            Expected = test.Expected,
            Iterations = Math.Min(Math.Max(iterations, started), this.Options.Iterations),
            Seed = seed,
            Strategy = strategy,
            Elapsed = clock.Elapsed,
            Uncontrolled = uncontrolled,
        };

        if (report.NumOfFoundBugs == 0)
        {
            return outcome;
        }

        var message = report.BugReports.FirstOrDefault() ?? "bug";
        var log = Recorder.Last is { } last && last.Test == test.Name ? last : null;
        if (log is { Frozen: false })
        {
            Recorder.Freeze(message);
        }

        var diagnosis = Classifier.Classify(log, message);
        outcome = outcome with { Kind = diagnosis.Kind, FirstBugIteration = started, Diagnosis = diagnosis };
        var folder = FailureReport.Write(runDir, test, outcome, log, engine.ReproducibleTrace, engine.ReadableTrace);
        return outcome with { ReportDir = folder };
    }
}
