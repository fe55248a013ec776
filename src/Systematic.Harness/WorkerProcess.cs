using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Systematic.Analysis;

namespace Systematic.Harness;

/// <summary>
/// Runs one test in a child <c>systematic worker</c> process under a hard wall-clock budget: a test that spins without a
/// scheduling point, blocks on something uncontrolled, exits the process or overflows its stack is reported as a
/// <see cref="FailureKind.Hang"/> or <see cref="FailureKind.Crashed"/> failure of that test, and the run goes on.
/// </summary>
public static class WorkerProcess
{
    /// <summary>The prefix of the progress lines a worker prints.</summary>
    public const string ProgressPrefix = "progress ";

    /// <summary>Runs <paramref name="test"/> in a worker, pinned to <paramref name="cpu"/> when given, and returns its outcome.</summary>
    public static TestOutcome Run(TestCase test, RunOptions options, string runDir, int? cpu, Action<Progress>? progress, CancellationToken cancellation)
    {
        var result = Path.Combine(runDir, $".worker-{Guid.NewGuid():N}.json");
        var start = StartInfo();
        foreach (var arg in new[]
        {
            "worker", "--assembly", test.Assembly.Path, "--source", test.Assembly.SourcePath, "--test", test.Name, "--run-dir", runDir, "--result", result,
            "--options", JsonSerializer.Serialize(options with { Isolated = false, Workers = 1 }, Json.Options),
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (cpu is { } pinTo)
        {
            start.ArgumentList.Add("--cpu");
            start.ArgumentList.Add(pinTo.ToString(CultureInfo.InvariantCulture));
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new HarnessException("Could not start a worker process.");
        var errors = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (errors)
                {
                    // Keep the head (where the runtime says what killed the process) and the tail.
                    errors.Add(line);
                    if (errors.Count > 60)
                    {
                        errors.RemoveAt(10);
                    }
                }
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith(ProgressPrefix, StringComparison.Ordinal) &&
                long.TryParse(line.AsSpan(ProgressPrefix.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var iterations))
            {
                progress?.Invoke(new Progress(test.Name, iterations, clock.Elapsed));
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        var budget = options.WorkerBudget;
        var interrupted = false;
        while (!process.WaitForExit(200))
        {
            if (cancellation.IsCancellationRequested && !interrupted)
            {
                // Ask the worker to stop after its current iteration; it still writes what it found.
                interrupted = true;
                Signal(process.Id);
            }

            if (clock.Elapsed > budget)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return Failed(test, FailureKind.Hang, clock.Elapsed,
                    $"The test did not finish within its budget of {budget.TotalSeconds:0} s (it may spin without a scheduling point or block on something Coyote does not control): its worker was stopped.");
            }
        }

        process.WaitForExit();
        if (process.ExitCode == 0 && File.Exists(result))
        {
            try
            {
                return JsonSerializer.Deserialize<TestOutcome>(File.ReadAllText(result), Json.Options)
                    ?? throw new JsonException("empty result");
            }
            finally
            {
                File.Delete(result);
            }
        }

        string last;
        lock (errors)
        {
            last = errors.FirstOrDefault(l => l.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase) || l.Contains("Unhandled exception", StringComparison.Ordinal) || l.Contains("Fatal", StringComparison.Ordinal))
                ?? errors.FirstOrDefault(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal))
                ?? "it printed nothing (Environment.Exit, or killed by a signal)";
        }

        return Failed(test, FailureKind.Crashed, clock.Elapsed, $"The test took its worker process down (exit code {process.ExitCode}): {last}");
    }

    private static TestOutcome Failed(TestCase test, FailureKind kind, TimeSpan elapsed, string sentence) => new()
    {
        Test = test.Name,
        Outcome = Outcome.Bug,
        Kind = kind,
        Expected = test.Expected,
        Elapsed = elapsed,
        Diagnosis = new Diagnosis(kind, sentence, [], [], [], [], [], sentence),
    };

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
