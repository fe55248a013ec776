using System.Runtime.InteropServices;
using Systematic.Harness;

namespace Systematic.Cli;

/// <summary>
/// <c>systematic worker --serve</c>: a long-lived worker of a parent run. It reads work requests from its standard
/// input, one per line (<see cref="WorkerProtocol"/>), explores each test and prints progress and the outcome; it exits
/// when its input ends.
/// </summary>
internal static class WorkerCommand
{
    public static ExitCode Serve(int? cpu, TextReader input, TextWriter output)
    {
        // First, so every thread the runtime and Coyote start later inherits the CPU.
        if (cpu is { } pinTo)
        {
            CpuAffinity.PinCurrentProcess(pinTo);
        }

        using var stops = new StopRequests();

        // Standard output carries the protocol: what the tests themselves print goes to standard error.
        Console.SetOut(Console.Error);

        // A worker explores tests of the same prepared copies again and again: load each once.
        var assemblies = new Dictionary<string, PreparedAssembly>(StringComparer.Ordinal);
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            if (line.Length == 0)
            {
                continue;
            }

            Explore(WorkerProtocol.ReadRequest(line), assemblies, output, stops.Current);
            stops.Renew();
        }

        return ExitCode.Success;
    }

    /// <summary>Explores the requested test, printing its progress and then its outcome.</summary>
    private static void Explore(WorkRequest request, Dictionary<string, PreparedAssembly> assemblies, TextWriter output, CancellationToken cancellation)
    {
        if (!assemblies.TryGetValue(request.Assembly, out var prepared))
        {
            prepared = assemblies[request.Assembly] = PreparedAssembly.Open(request.Assembly, request.Source);
        }

        var test = prepared.Tests.FirstOrDefault(t => t.Name == request.Test) ?? throw new HarnessException($"Test {request.Test} is not in {request.Assembly}.");
        var runner = new TestRunner(request.Options, progress =>
        {
            output.WriteLine($"{WorkerProtocol.ProgressPrefix}{progress.Iterations}");
            output.Flush();
        }, request.ReplayTool);
        var outcome = runner.Run(test, request.RunDir, cancellation);
        outcome = outcome with { Workers = [new WorkerRun(outcome.Seed, outcome.Iterations, outcome.Elapsed, CpuAffinity.OfAllThreads()) { Process = Environment.ProcessId }] };
        output.WriteLine(WorkerProtocol.Write(outcome));
        output.Flush();
    }

    /// <summary>
    /// SIGINT and SIGTERM stop the test in progress. On a terminal, Ctrl-C reaches the workers (SIGINT) as well as the
    /// parent, which then asks them to stop (SIGTERM): that is one request, to stop the current test. Only the same
    /// signal twice means "stop now".
    /// </summary>
    private sealed class StopRequests : IDisposable
    {
        private readonly PosixSignalRegistration sigint;
        private readonly PosixSignalRegistration sigterm;
        private CancellationTokenSource current = new();
        private int interrupts;
        private int terminations;

        public StopRequests()
        {
            this.sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, this.Stop);
            this.sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, this.Stop);
        }

        /// <summary>Gets the cancellation of the test in progress.</summary>
        public CancellationToken Current => this.current.Token;

        /// <summary>After a stopped test, a fresh cancellation for the next one.</summary>
        public void Renew()
        {
            if (this.current.IsCancellationRequested)
            {
                Interlocked.Exchange(ref this.current, new CancellationTokenSource()).Dispose();
            }
        }

        public void Dispose()
        {
            this.sigterm.Dispose();
            this.sigint.Dispose();
        }

        private void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref context.Signal == PosixSignal.SIGINT ? ref this.interrupts : ref this.terminations) > 1)
            {
                Environment.Exit((int)ExitCode.Interrupted);
            }

            Volatile.Read(ref this.current).Cancel();
        }
    }
}
