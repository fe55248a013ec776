namespace Systematic.Harness.Preparation;

/// <summary>What preparation did with a closure, as lines for the console: one per assembly, the framework in one line.</summary>
internal static class ClosureReport
{
    /// <summary>Gets the lines: warnings, then each prepared assembly, each other one left alone, and one line counting the framework's.</summary>
    public static IEnumerable<string> Lines(IReadOnlyList<AssemblyDecision> closure)
    {
        foreach (var decision in closure.Where(d => d.IsWarning))
        {
            yield return decision.Line;
        }

        foreach (var decision in closure.Where(d => !d.IsWarning && d.IsPrepared))
        {
            yield return decision.Line;
        }

        foreach (var decision in closure.Where(d => !d.IsWarning && !d.IsPrepared && d.Reason != "framework"))
        {
            yield return decision.Line;
        }

        var framework = closure.Count(d => d.Reason == "framework");
        if (framework > 0)
        {
            yield return $"left alone: {framework} framework assemblies";
        }
    }
}
