using System.Runtime.InteropServices;
using System.Text.Json;
using Systematic.Harness;

namespace Systematic.Cli;

/// <summary><c>systematic worker</c>: runs one test for a parent run and writes its outcome as JSON.</summary>
internal static class WorkerCommand
{
    public static ExitCode Run(string assembly, string source, string test, string runDir, string result, string optionsJson, int? cpu, TextWriter output)
    {
        RunOptions options;
        try
        {
            options = JsonSerializer.Deserialize<RunOptions>(optionsJson, Json.Options) ?? throw new HarnessException("Empty worker options.");
        }
        catch (JsonException e)
        {
            throw new HarnessException($"Bad worker options: {e.Message}");
        }

        // First, so every thread the runtime and Coyote start later inherits the CPU.
        if (cpu is { } pinTo)
        {
            CpuAffinity.PinCurrentProcess(pinTo);
        }

        var prepared = PreparedAssembly.Open(assembly, source);
        var testCase = prepared.Tests.FirstOrDefault(t => t.Name == test) ?? throw new HarnessException($"Test {test} is not in {assembly}.");
        using var cancellation = new CancellationTokenSource();
        // On a terminal, Ctrl-C reaches the workers (SIGINT) as well as the parent, which then asks them to stop
        // (SIGTERM): that is one request. Only the same signal twice means "stop now".
        var interrupts = 0;
        var terminations = 0;
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref context.Signal == PosixSignal.SIGINT ? ref interrupts : ref terminations) > 1)
            {
                Environment.Exit((int)ExitCode.Interrupted);
            }

            cancellation.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var runner = new TestRunner(options, progress => output.WriteLine($"{WorkerProcess.ProgressPrefix}{progress.Iterations}"));
        var outcome = runner.Run(testCase, runDir, cancellation.Token);
        outcome = outcome with { Workers = [new WorkerRun(outcome.Seed, outcome.Iterations, outcome.Elapsed, CpuAffinity.OfAllThreads())] };
        AtomicFile.Write(result, JsonSerializer.Serialize(outcome, Json.Options));
        return ExitCode.Success;
    }
}
