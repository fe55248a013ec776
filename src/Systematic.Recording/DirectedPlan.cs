
namespace Systematic.Recording;

/// <summary>
/// The schedule a predicted lock-order cycle implies, for a run that confirms it: each task of the cycle, once it holds
/// its first lock of the cycle (that lock, taken at that line), pauses until every task of the cycle holds its own;
/// then they go on, each to the lock the next one holds. Built with Coyote's public <c>Operation.PauseUntil</c>.
/// </summary>
/// <param name="Firsts">Each edge's first lock (its identity across iterations, <see cref="ResourceInfo.Key"/>) and the site it is taken at.</param>
public sealed record DirectedPlan(IReadOnlyList<(string Lock, SourceSite? Site)> Firsts)
{
    private int arrived;

    /// <summary>Gets how many tasks of the cycle hold their first lock in this iteration.</summary>
    public int Arrived => Volatile.Read(ref this.arrived);

    /// <summary>Gets whether every task of the cycle holds its first lock.</summary>
    public bool AllArrived => this.Arrived >= this.Firsts.Count;

    internal bool IsFirst(ResourceInfo resource, SourceSite? site) => this.Firsts.Any(f => f.Lock == resource.Key && f.Site == site);

    internal void Arrive() => Interlocked.Increment(ref this.arrived);

    internal void Reset() => Volatile.Write(ref this.arrived, 0);

    /// <summary>The environment variable that names a plan file for a stock <c>coyote replay</c> of a schedule built from one.</summary>
    public const string Variable = "SYSTEMATIC_DIRECTED_PLAN";

    /// <summary>Writes the plan as JSON.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this.Firsts.Select(f => new PlanStep(f.Lock, f.Site)).ToList());

    /// <summary>Reads a plan written by <see cref="ToJson"/>, or returns null when the file is missing or not one.</summary>
    public static DirectedPlan? Read(string path)
    {
        try
        {
            var steps = System.Text.Json.JsonSerializer.Deserialize<List<PlanStep>>(File.ReadAllText(path));
            return steps is { Count: > 0 } ? new DirectedPlan(steps.Select(s => (s.Lock, s.Site)).ToList()) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private sealed record PlanStep(string Lock, SourceSite? Site);
}
