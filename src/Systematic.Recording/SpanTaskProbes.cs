using System.ComponentModel;
using ControlledTask = Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task;

namespace Systematic.Recording;

/// <summary>
/// Controlled stand-ins for the <c>ReadOnlySpan&lt;Task&gt;</c> overloads .NET 9 added (C# 13 binds
/// <c>Task.WhenAll(a, b)</c> to one), which Coyote 1.7.11 does not control: routed to the controlled array forms.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SpanTaskProbes
{
    /// <summary>Creates a task that finishes when all of <paramref name="tasks"/> have.</summary>
    public static Task WhenAll(ReadOnlySpan<Task> tasks, string site) => TaskProbes.WhenAll(tasks.ToArray(), site);

    /// <summary>Creates a task that finishes when all of <paramref name="tasks"/> have.</summary>
    public static Task<TResult[]> WhenAll<TResult>(ReadOnlySpan<Task<TResult>> tasks, string site) => TaskProbes.WhenAll(tasks.ToArray(), site);

    /// <summary>Creates a task that finishes when any of <paramref name="tasks"/> has.</summary>
    public static Task<Task> WhenAny(ReadOnlySpan<Task> tasks, string site) => TaskProbes.WhenAny(tasks.ToArray(), site);

    /// <summary>Creates a task that finishes when any of <paramref name="tasks"/> has.</summary>
    public static Task<Task<TResult>> WhenAny<TResult>(ReadOnlySpan<Task<TResult>> tasks, string site) => TaskProbes.WhenAny(tasks.ToArray(), site);

    /// <summary>Blocks until all of <paramref name="tasks"/> finish.</summary>
    public static void WaitAll(ReadOnlySpan<Task> tasks, string site) => TaskProbes.WaitAll(tasks.ToArray(), site);

    /// <summary>Blocks until all of <paramref name="tasks"/> finish or the token is cancelled.</summary>
    public static void WaitAll(IEnumerable<Task> tasks, CancellationToken cancellationToken, string site)
    {
        var array = tasks.ToArray();
        if (!cancellationToken.CanBeCanceled)
        {
            TaskProbes.WaitAll(array, site);
            return;
        }

        ControlledTask.WaitAll(array, cancellationToken);
    }
}
