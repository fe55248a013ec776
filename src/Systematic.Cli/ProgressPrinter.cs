using System.Diagnostics;
using System.Globalization;
using Systematic.Harness;
using Systematic.Harness.Reports;

namespace Systematic.Cli;

/// <summary>Shows progress: a live line on a terminal, plain periodic lines in CI or when output is redirected.</summary>
internal sealed class ProgressPrinter(TextWriter output, int total, TimeSpan? perTest)
{
    private readonly bool live = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null && ReferenceEquals(output, Console.Out);
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private TimeSpan lastPlain = TimeSpan.Zero;
    private int done;
    private int bugs;

    private readonly Lock gate = new();

    public void Report(ExplorationProgress progress)
    {
        lock (this.gate)
        {
            this.ReportLocked(progress);
        }
    }

    public void Done(TestOutcome outcome, int index, int count)
    {
        lock (this.gate)
        {
            this.DoneLocked(outcome, index, count);
        }
    }

    private void ReportLocked(ExplorationProgress progress)
    {
        var left = perTest is { } t ? $", at most {(total - this.done) * t.TotalSeconds:0}s left" : "";
        var line = string.Create(CultureInfo.InvariantCulture, $"[{this.clock.Elapsed.TotalSeconds,5:0}s] {this.done}/{total} tests, {this.bugs} bug(s); {Short(progress.Test)}: {progress.Iterations} iterations{left}");
        if (this.live)
        {
            output.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 120))[..Math.Min(line.Length, Console.WindowWidth - 1)]);
        }
        else if (this.clock.Elapsed - this.lastPlain > TimeSpan.FromSeconds(5))
        {
            this.lastPlain = this.clock.Elapsed;
            output.WriteLine(line);
        }
    }

    private void DoneLocked(TestOutcome outcome, int index, int count)
    {
        this.done = index;
        if (outcome.Outcome == Outcome.Bug)
        {
            this.bugs++;
        }

        this.Clear();
        var mark = outcome.ExpectationMet ? "ok  " : "FAIL";
        var what = outcome.Outcome switch
        {
            Outcome.Bug => $"bug {outcome.Kind} at iteration {outcome.FirstBugIteration}",
            Outcome.Passed when outcome.Bounded is { } bounded => $"passed: {bounded.Statement}",
            Outcome.Passed => $"passed {outcome.Iterations} iterations",
            _ => $"error: {outcome.Error}",
        };
        var expected = $"expected {OutcomeNames.Expected(outcome.Expected)}";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mark} [{index}/{count}] {Short(outcome.Test)}: {what} ({expected}, {outcome.Elapsed.TotalSeconds:0.00}s)"));
        if (outcome.Uncontrolled.Count > 0)
        {
            output.WriteLine($"     uncontrolled: {string.Join("; ", outcome.Uncontrolled)} (its traces are not guaranteed to reproduce)");
        }
    }

    public void Clear()
    {
        if (this.live)
        {
            output.Write("\r" + new string(' ', Math.Min(Console.WindowWidth - 1, 120)) + "\r");
        }
    }

    private static string Short(string test)
    {
        var parts = test.Split('.');
        return parts.Length >= 2 ? $"{parts[^2]}.{parts[^1]}" : test;
    }
}
