using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Systematic.Analysis;

namespace Systematic.Harness;

/// <summary>
/// Long-lived <c>systematic worker --serve</c> processes that each explore many tests, one at a time, from the run's
/// queue, each under a hard wall-clock budget: a test that spins without a scheduling point, blocks on something
/// uncontrolled, exits the process or overflows its stack is reported as a <see cref="FailureKind.Hang"/> or
/// <see cref="FailureKind.Crashed"/> failure of that test, its worker is replaced, and the run goes on. A worker
/// started once costs its start-up once, not per test.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly ConcurrentBag<Worker> idle = [];
    private readonly Stack<int> cpus;
    private readonly object gate = new();
    private readonly List<Worker> all = [];

    /// <summary>Creates a pool; each worker it starts is pinned to a CPU of <paramref name="cpus"/> while one is free.</summary>
    public WorkerPool(IEnumerable<int>? cpus = null)
    {
        this.cpus = new Stack<int>((cpus ?? []).Reverse());
    }

    /// <summary>Explores <paramref name="test"/> in an idle worker (or a new one) and returns its outcome.</summary>
    public TestOutcome Run(TestCase test, ExplorationOptions options, string runDir, string replayTool, Action<ExplorationProgress>? progress, CancellationToken cancellation)
    {
        var worker = this.Take();
        var (outcome, reusable) = worker.Run(test, options, runDir, replayTool, progress, cancellation);
        if (reusable)
        {
            this.idle.Add(worker);
        }
        else
        {
            this.Retire(worker);
        }

        return outcome;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (this.gate)
        {
            foreach (var worker in this.all)
            {
                worker.Dispose();
            }

            this.all.Clear();
        }
    }

    private Worker Take()
    {
        if (this.idle.TryTake(out var worker))
        {
            return worker;
        }

        lock (this.gate)
        {
            var cpu = this.cpus.Count > 0 ? this.cpus.Pop() : (int?)null;
            worker = new Worker(cpu);
            this.all.Add(worker);
            return worker;
        }
    }

    private void Retire(Worker worker)
    {
        lock (this.gate)
        {
            this.all.Remove(worker);
            if (worker.Cpu is { } cpu)
            {
                this.cpus.Push(cpu);
            }
        }

        worker.Dispose();
    }

    private static TestOutcome Failed(TestCase test, FailureKind kind, TimeSpan elapsed, ExplorationOptions options, string sentence) => new()
    {
        Test = test.Name,
        Outcome = Outcome.Bug,
        Kind = kind,
        Expected = test.Expected,
        Elapsed = elapsed,
        Seed = options.Seed ?? 0,
        Strategy = options.Strategy ?? StrategyTable.Portfolio,
        Diagnosis = new Diagnosis(kind, sentence, [], [], [], [], [], sentence),
    };

    /// <summary>One worker process and the lines it prints.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process process;
        private readonly BlockingCollection<string> lines = [];
        private readonly List<string> errors = [];
        private bool closed;

        public Worker(int? cpu)
        {
            this.Cpu = cpu;
            var start = StartInfo();
            start.ArgumentList.Add("worker");
            start.ArgumentList.Add("--serve");
            if (cpu is { } pinTo)
            {
                start.ArgumentList.Add("--cpu");
                start.ArgumentList.Add(pinTo.ToString(CultureInfo.InvariantCulture));
            }

            this.process = Process.Start(start) ?? throw new HarnessException("Could not start a worker process.");
            this.process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line)
                {
                    lock (this.errors)
                    {
                        // Keep the head (where the runtime says what killed the process) and the tail.
                        this.errors.Add(line);
                        if (this.errors.Count > 60)
                        {
                            this.errors.RemoveAt(10);
                        }
                    }
                }
            };
            this.process.OutputDataReceived += (_, e) => this.Received(e.Data);
            this.process.BeginErrorReadLine();
            this.process.BeginOutputReadLine();
        }

        public int? Cpu { get; }

        /// <summary>Runs one test; returns its outcome and whether the worker can take another.</summary>
        public (TestOutcome Outcome, bool Reusable) Run(TestCase test, ExplorationOptions options, string runDir, string replayTool, Action<ExplorationProgress>? progress, CancellationToken cancellation)
        {
            lock (this.errors)
            {
                this.errors.Clear();
            }

            var clock = Stopwatch.StartNew();
            var request = new WorkRequest(test.Assembly.Path, test.Assembly.SourcePath, test.Name, runDir, options, replayTool);
            if (!this.Send(request))
            {
                return (this.Crashed(test, options, clock), false);
            }

            return this.Await(test, options, progress, clock, cancellation);
        }

        /// <summary>Writes the request to the worker's input; false when the worker is gone.</summary>
        private bool Send(WorkRequest request)
        {
            try
            {
                this.process.StandardInput.WriteLine(WorkerProtocol.Write(request));
                this.process.StandardInput.Flush();
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }

        /// <summary>Reads the worker's lines until its result, its end or the end of the test's budget; asks it to stop on cancellation.</summary>
        private (TestOutcome Outcome, bool Reusable) Await(TestCase test, ExplorationOptions options, Action<ExplorationProgress>? progress, Stopwatch clock, CancellationToken cancellation)
        {
            var budget = options.WorkerBudget;
            var interrupted = false;
            while (true)
            {
                if (this.lines.TryTake(out var line, 200, CancellationToken.None))
                {
                    if (this.Read(line, interrupted, test, options, progress, clock) is { } answer)
                    {
                        return answer;
                    }

                    continue;
                }

                if (this.lines.IsCompleted || this.process.HasExited && this.lines.Count == 0)
                {
                    return (this.Crashed(test, options, clock), false);
                }

                if (cancellation.IsCancellationRequested && !interrupted)
                {
                    // Ask the worker to stop after its current iteration; it still writes what it found.
                    interrupted = true;
                    Signal(this.process.Id);
                }

                if (clock.Elapsed > budget)
                {
                    this.Kill();
                    return (Failed(test, FailureKind.Hang, clock.Elapsed, options,
                        $"The test did not finish within its budget of {budget.TotalSeconds:0} s (it may spin without a scheduling point or block on something Coyote does not control): its worker was stopped."), false);
                }
            }
        }

        /// <summary>Reports a progress line; returns the outcome a result line carries (reusable unless the worker was interrupted), else null.</summary>
        private (TestOutcome Outcome, bool Reusable)? Read(string line, bool interrupted, TestCase test, ExplorationOptions options, Action<ExplorationProgress>? progress, Stopwatch clock)
        {
            if (line.StartsWith(WorkerProtocol.ProgressPrefix, StringComparison.Ordinal) &&
                long.TryParse(line.AsSpan(WorkerProtocol.ProgressPrefix.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var iterations))
            {
                progress?.Invoke(new ExplorationProgress(test.Name, iterations, clock.Elapsed));
                return null;
            }

            if (!line.StartsWith(WorkerProtocol.ResultPrefix, StringComparison.Ordinal))
            {
                return null;
            }

            try
            {
                return (WorkerProtocol.ReadResult(line), !interrupted);
            }
            catch (JsonException)
            {
                return (this.Crashed(test, options, clock), false);
            }
        }

        public void Dispose()
        {
            try
            {
                if (!this.process.HasExited)
                {
                    // A worker whose input ends finishes its loop and exits; one that does not is stopped.
                    this.process.StandardInput.Close();
                    if (!this.process.WaitForExit(2000))
                    {
                        this.Kill();
                    }
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException)
            {
                // Already gone.
            }

            lock (this.lines)
            {
                // The reader thread can deliver the end of the output after the process is gone: it must find the queue closed, not disposed.
                this.closed = true;
                this.lines.Dispose();
            }

            this.process.Dispose();
        }

        private void Received(string? line)
        {
            lock (this.lines)
            {
                if (this.closed)
                {
                    return;
                }

                if (line is null)
                {
                    this.lines.CompleteAdding();
                }
                else
                {
                    this.lines.Add(line);
                }
            }
        }

        private void Kill()
        {
            try
            {
                this.process.Kill(entireProcessTree: true);
                this.process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        private TestOutcome Crashed(TestCase test, ExplorationOptions options, Stopwatch clock)
        {
            this.process.WaitForExit(5000);
            string last;
            lock (this.errors)
            {
                last = this.errors.FirstOrDefault(l => l.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase) || l.Contains("Unhandled exception", StringComparison.Ordinal) || l.Contains("Fatal", StringComparison.Ordinal))
                    ?? this.errors.FirstOrDefault(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal))
                    ?? "it printed nothing (Environment.Exit, or killed by a signal)";
            }

            var code = this.process.HasExited ? this.process.ExitCode.ToString(CultureInfo.InvariantCulture) : "unknown";
            return Failed(test, FailureKind.Crashed, clock.Elapsed, options, $"The test took its worker process down (exit code {code}): {last}");
        }

        private static ProcessStartInfo StartInfo()
        {
            var self = Path.Combine(AppContext.BaseDirectory, "systematic.dll");
            if (!File.Exists(self))
            {
                throw new HarnessException($"Cannot find systematic.dll next to {AppContext.BaseDirectory} to start workers; use --in-process.");
            }

            var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
            var start = new ProcessStartInfo(host)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(self);
            start.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            return start;
        }

        private static void Signal(int pid)
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                try
                {
                    using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                    kill?.WaitForExit(2000);
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    // No kill command: the worker finishes its test instead.
                }
            }
        }
    }
}
