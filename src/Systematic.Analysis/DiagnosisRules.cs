using System.Globalization;
using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>The diagnosis rules, root causes first, over one recorded iteration and the message that ended it.</summary>
internal sealed class DiagnosisRules(LogView view, string message)
{
    private readonly IterationLog log = view.Log;
    private readonly WaitForState state = view.State;

    private FailureKind messageKind;
    private List<Holding> holdings = [];
    private List<Waiting> waitings = [];
    private IReadOnlyList<(int Resource, int Task, SourceSite? Site)> leaks = [];
    private List<TaskState> blocked = [];

    /// <summary>The rules, root causes first: the first that explains the iteration names the failure.</summary>
    public Diagnosis Run()
    {
        // Systematic's own checks hand over what they found; Coyote's failures are known by their message.
        this.messageKind = this.log.Detected?.Kind ?? FailureMessage.Kind(message);
        this.holdings = this.Holdings();
        this.waitings = this.Waitings();
        this.leaks = view.Leaks();
        this.blocked = this.state.Tasks.Values.Where(t => !t.Ended && t.Blocked is not null).ToList();
        var found = this.CoyoteStopped()
            ?? this.OverReleased()
            ?? this.LeakThatStarvesWaiters()
            ?? this.WaitCycle()
            ?? this.FinishedHoldingAPermit()
            ?? this.ShortWhenTheTestEnds()
            ?? this.HangOutsideRecordedCode()
            ?? this.LostWakeupRule()
            ?? this.PromiseNobodyCompletes()
            ?? this.BlockedWithoutCycle()
            ?? Classifier.FromMessageOnly(message) with { Kind = this.messageKind == FailureKind.None ? FailureMessage.Kind(message) : this.messageKind, Holdings = this.holdings, Waitings = this.waitings };
        return this.UncontrolledBlock(found);
    }

    /// <summary>Coyote itself stopped the test: a thread it did not start, or an object from before the iteration, touched what it controls.</summary>
    private Diagnosis? CoyoteStopped()
    {
        if (this.messageKind != FailureKind.Uncontrolled)
        {
            return null;
        }

        string what;
        var resources = new List<string>();
        if (message.Contains("previous test iteration", StringComparison.Ordinal))
        {
            // The object Coyote rejected is the one the last recorded event touched.
            var last = this.log.Events.LastOrDefault(e => e.Resource > 0);
            var named = last is null ? "an object" : $"`{view.ResourceName(last.Resource)}` ({(last.Kind == EventKind.Create ? "made" : "used")} at {LogView.Short(last.Site ?? this.log.Resource(last.Resource).Site)})";
            if (last is not null)
            {
                resources.Add(view.ResourceName(last.Resource));
            }

            what = $"{named} was made before this iteration began (kept in a static field, or made by another test or an earlier iteration), and Coyote controls only what each iteration makes: make it inside the test, or per instance.";
        }
        else if (message.Contains("is not controlled and is invoking the ", StringComparison.Ordinal))
        {
            var start = message.IndexOf("is invoking the ", StringComparison.Ordinal) + "is invoking the ".Length;
            var end = message.IndexOf(" synchronization method", start, StringComparison.Ordinal);
            var method = end > start ? message[start..end] : "a synchronization method";
            what = $"a thread Coyote did not start called {method}" +
                (this.log.UncontrolledCalls.Count > 0 ? $"; the thread comes from {this.Calls()}" : "") + ", and Coyote cannot explore code on such threads.";
        }
        else
        {
            what = FailureMessage.FirstLine(message) + (this.log.UncontrolledCalls.Count > 0 ? $" (after {this.Calls()})" : "");
        }

        return this.Result(FailureKind.Uncontrolled, $"Coyote stopped the test: {what} This is a limit of the harness, not a verdict on the code.", resources, [], []);
    }

    /// <summary>
    /// Tasks blocked for ever on something no recorded cycle, leak or lost wake-up explains, after calls into code
    /// Coyote does not control: what they wait for may be there, so Systematic cannot tell a deadlock from a false alarm.
    /// </summary>
    private Diagnosis UncontrolledBlock(Diagnosis found)
    {
        // Calls by the blocked tasks; with none blocked on anything recorded (a hang), any call.
        var blocked = this.blocked.Select(t => view.Logical(t.Id)).ToHashSet();
        var relevant = blocked.Count == 0 ? this.log.UncontrolledCalls.Count > 0 : this.log.UncontrolledCalls.Any(c => blocked.Contains(view.Logical(c.Task)));
        if (found.Kind is not (FailureKind.Deadlock or FailureKind.Hang) || found.Cycle.Count > 0 || !relevant)
        {
            return found;
        }

        var who = blocked.Count == 0 ? "The test called" : "Those tasks called";
        var sentence = found.Sentence.TrimEnd('.') + $". {who} code Coyote does not control ({this.Calls()}): what they wait for may be there, " +
            "so this may be a false alarm; use the controlled alternatives `systematic doctor` lists to test this code.";
        return found with { Kind = FailureKind.Uncontrolled, Sentence = sentence };
    }

    /// <summary>", by an OperationCanceledException thrown at Throttle.cs:27," for a task whose body ended by throwing (the path that skipped the release); empty otherwise.</summary>
    private string EndedBy(int task) => task > 0 && task <= this.log.Tasks.Count && this.log.Task(task).EndedBy is { } fault ? $", by {fault}," : "";

    /// <summary>The uncontrolled calls of the iteration, the blocked tasks' first, at most three.</summary>
    private string Calls()
    {
        var blocked = this.blocked.Select(t => view.Logical(t.Id)).ToHashSet();
        // The blocked tasks' calls first, the latest first: where a task stopped is its last uncontrolled call.
        var calls = this.log.UncontrolledCalls
            .Reverse()
            .OrderByDescending(c => blocked.Contains(view.Logical(c.Task)))
            .Select(c => $"`{c.Api}` at {LogView.Short(c.Site)}{(c.Task > 0 ? $" by `{view.TaskName(c.Task)}`" : "")}")
            .Distinct()
            .ToList();
        return string.Join(", ", calls.Take(3)) + (calls.Count > 3 ? $" and {calls.Count - 3} more" : "");
    }

    /// <summary>A release above the resource's limit, as the recorder saw it.</summary>
    private Diagnosis? OverReleased()
    {
        if (this.log.Events.FirstOrDefault(e => e.Kind == EventKind.OverRelease) is { } over)
        {
            var resource = this.log.Resource(over.Resource);
            var sentence = $"Task `{view.TaskName(over.Task)}` releases `{resource.Name}` at {LogView.Short(over.Site)} without a matching acquire: " +
                $"`{resource.Name}` already had {over.Count} of {resource.Limit} permit(s) free, so the limit is exceeded (over-release).";
            return this.Result(FailureKind.OverRelease, sentence, [resource.Name], [], this.Consequence());
        }

        return this.messageKind == FailureKind.OverRelease ? Classifier.FromMessageOnly(message) with { Holdings = this.holdings, Waitings = this.waitings } : null;
    }

    /// <summary>A task finished holding a permit others wait for: the leak is the root cause, the starving its consequence.</summary>
    private Diagnosis? LeakThatStarvesWaiters()
    {
        var starved = this.blocked
            .Select(t => (Task: t, Wait: t.Blocked as WaitingForResource))
            .Where(x => x.Wait is not null && this.leaks.Any(l => l.Resource == x.Wait.Resource))
            .ToList();
        if (starved.Count == 0 || this.messageKind is not (FailureKind.Deadlock or FailureKind.Leak or FailureKind.Hang or FailureKind.InvariantViolation))
        {
            return null;
        }

        var leak = this.leaks.First(l => l.Resource == starved[0].Wait!.Resource);
        var waiters = string.Join(", ", starved.Select(s => $"`{view.TaskName(s.Task.Id)}`").Distinct());
        var sentence = $"Task `{view.TaskName(leak.Task)}` took `{view.ResourceName(leak.Resource)}` at {LogView.Short(leak.Site)} and finished{this.EndedBy(leak.Task)} without releasing it; " +
            $"{waiters} wait{(starved.Count == 1 ? "s" : "")} at {LogView.Short(starved[0].Wait!.Site)} for it for ever: a leaked permit.";
        var consequences = new List<string> { $"Deadlock: {starved.Count} task(s) starve waiting for `{view.ResourceName(leak.Resource)}`." };
        if (this.messageKind != FailureKind.Deadlock)
        {
            consequences.AddRange(this.Consequence());
        }

        return this.Result(FailureKind.Leak, sentence, [view.ResourceName(leak.Resource)], [], consequences);
    }

    /// <summary>A cycle in the wait-for graph: a lock-order deadlock, a self-deadlock, or hold-and-wait exhaustion.</summary>
    private Diagnosis? WaitCycle() =>
        this.messageKind is FailureKind.Deadlock or FailureKind.Hang && this.blocked.Count > 0 && new WaitForCycles(view).Find(this.blocked) is { Count: > 0 } cycle
            ? this.FromCycle(cycle)
            : null;

    /// <summary>A task finished holding a permit (no one waits for it yet).</summary>
    private Diagnosis? FinishedHoldingAPermit()
    {
        if (this.leaks.Count == 0 || this.messageKind is not (FailureKind.Leak or FailureKind.InvariantViolation or FailureKind.Deadlock))
        {
            return null;
        }

        var leak = this.leaks[0];
        var resource = this.log.Resource(leak.Resource);
        var resourceState = this.state.Resources[leak.Resource];
        var sentence = $"Task `{view.TaskName(leak.Task)}` took `{resource.Name}` at {LogView.Short(leak.Site)} and finished{this.EndedBy(leak.Task)} without releasing it: " +
            $"a leaked permit (`{resource.Name}` has {resourceState.Count} of {resource.Initial} permit(s) free at the end).";
        return this.Result(FailureKind.Leak, sentence, this.leaks.Select(l => view.ResourceName(l.Resource)).Distinct().ToList(), [], this.messageKind == FailureKind.Leak ? [] : this.Consequence());
    }

    /// <summary>A semaphore short of permits when the test ends, with no holder to blame (released by tasks that never took it).</summary>
    private Diagnosis? ShortWhenTheTestEnds()
    {
        if (this.messageKind != FailureKind.Leak || this.MissingPermits() is not { } missing)
        {
            return null;
        }

        var sentence = $"`{missing.Info.Name}` has {missing.Count} of {missing.Info.Initial} permit(s) free when the test ends: a leaked permit.";
        if (missing.ForeignReleasers.Count > 0)
        {
            // Released by tasks that never took it: a producer/consumer count, where a short count may be items in flight.
            var releasers = string.Join(", ", missing.ForeignReleasers.Select(t => $"`{view.TaskName(t)}`").Distinct());
            sentence += $" It is used for signalling ({releasers} release{(missing.ForeignReleasers.Count == 1 ? "s" : "")} permits {(missing.ForeignReleasers.Count == 1 ? "it" : "they")} did not take): " +
                "if items may legitimately be in flight when the test ends, declare it with `Signaling.Declare(...)`.";
        }

        return this.Result(FailureKind.Leak, sentence, [missing.Info.Name], [], []);
    }

    /// <summary>Coyote's watchdog fired while no task waits on anything recorded: a hang in uncontrolled code.</summary>
    private Diagnosis? HangOutsideRecordedCode()
    {
        if (!message.Contains("Potential deadlock", StringComparison.Ordinal) || this.blocked.Count > 0)
        {
            return null;
        }

        var sentence = "The test stopped making progress while blocked on something Coyote does not control (no task waits on a recorded semaphore or lock): " +
            "a hang, found by Coyote's watchdog. Look at the uncontrolled calls reported for this test.";
        return this.Result(FailureKind.Hang, sentence, [], [], []);
    }

    /// <summary>Every blocked task waits in Monitor.Wait for a pulse no running task can send.</summary>
    private Diagnosis? LostWakeupRule() =>
        this.messageKind is FailureKind.Deadlock or FailureKind.Hang && this.LostWakeup(this.blocked) is { } lost
            ? this.Result(FailureKind.LostWakeup, lost.Sentence, [view.ResourceName(lost.Monitor)], [], [])
            : null;

    /// <summary>A task awaits a TaskCompletionSource's (or an unknown) task no task still running completes.</summary>
    private Diagnosis? PromiseNobodyCompletes()
    {
        if (this.messageKind is not FailureKind.Deadlock || this.AwaitedPromise(this.blocked) is not { } promise)
        {
            return null;
        }

        var count = this.blocked.Where(t => !this.log.Task(t.Id).Promise).Select(t => view.Logical(t.Id)).Distinct().Count();
        var sentence = $"`{view.TaskName(promise.Waiter.Id)}` awaits `{view.TaskName(promise.Promise)}` at {LogView.Short(promise.Waiter.Blocked!.Site)}, and no task still running completes it: " +
            (count == 1 ? "it is blocked for ever." : $"{count} tasks are blocked for ever.");
        return this.Result(FailureKind.Deadlock, sentence, [], [], []);
    }

    /// <summary>Tasks blocked for ever on something that is no cycle of recorded resources.</summary>
    private Diagnosis? BlockedWithoutCycle()
    {
        if (this.messageKind is not FailureKind.Deadlock || this.blocked.Count == 0)
        {
            return null;
        }

        var first = this.blocked[0];
        var sentence = $"{this.blocked.Count} task(s) are blocked for ever with no cycle among semaphores or locks: `{view.TaskName(first.Id)}` {this.Describe(first.Blocked!)}.";
        return this.Result(FailureKind.Deadlock, sentence, [], [], []);
    }

    /// <summary>
    /// Tasks wait in <c>Monitor.Wait</c> and none still running can pulse the monitor: the wake-up they need was
    /// sent before they waited, or woke another waiter (<c>Pulse</c> where <c>PulseAll</c> was needed), or never came.
    /// </summary>
    private (int Monitor, string Sentence)? LostWakeup(IReadOnlyList<TaskState> blocked)
    {
        var sleepers = blocked.Where(t => t.Blocked is WaitingForPulse).OrderBy(t => t.Blocked!.Seq).ToList();
        if (sleepers.Count == 0 || blocked.Any(t => t.Blocked is WaitingForResource w && this.state.Resources[w.Resource].HeldBy.Any(h => !view.Ended(h))))
        {
            return null;
        }

        var monitor = ((WaitingForPulse)sleepers[^1].Blocked!).Resource;
        var name = view.ResourceName(monitor);
        var onIt = sleepers.Where(t => ((WaitingForPulse)t.Blocked!).Resource == monitor).ToList();
        var first = onIt[^1];
        var sentence = new System.Text.StringBuilder($"`{view.TaskName(first.Id)}` waits in Monitor.Wait on `{name}` at {LogView.Short(first.Blocked!.Site)}");
        var others = onIt.Where(t => t != first).Select(t => $"`{view.TaskName(t.Id)}` at {LogView.Short(t.Blocked!.Site)}").Distinct().ToList();
        if (others.Count > 0)
        {
            sentence.Append(", as does ").Append(string.Join(", ", others));
        }

        sentence.Append(", and no task still running can pulse it: a lost wake-up.");
        if (this.state.Resources[monitor].LastPulse is not { } pulse)
        {
            sentence.Append(CultureInfo.InvariantCulture, $" Nothing ever pulsed `{name}`.");
        }
        else
        {
            var verb = pulse.Kind == EventKind.PulseAll ? "PulseAll" : "Pulse";
            var woken = pulse.Targets ?? [];
            sentence.Append(CultureInfo.InvariantCulture, $" The last {verb} of `{name}`, at {LogView.Short(pulse.Site)} by `{view.TaskName(pulse.Task)}`, ");
            sentence.Append(woken.Count == 0
                ? "came before anyone waited: its signal was lost."
                : $"woke {string.Join(", ", woken.Select(w => $"`{view.TaskName(w)}`"))}{(pulse.Kind == EventKind.Pulse ? " only" : "")}" +
                  (woken.Any(w => this.state.Tasks.TryGetValue(w, out var t) && t.Blocked is WaitingForPulse again && again.Seq > pulse.Seq) ? ", which waited again" : "") +
                  (pulse.Kind == EventKind.Pulse ? ": PulseAll would have woken every waiter." : "."));
        }

        return (monitor, sentence.ToString());
    }

    /// <summary>A blocked task that awaits an unfinished TaskCompletionSource's task, the innermost such wait first (the latest recorded).</summary>
    private (TaskState Waiter, int Promise)? AwaitedPromise(IReadOnlyList<TaskState> blocked) =>
        blocked
            .Where(t => !this.log.Task(t.Id).Promise && t.Blocked is AwaitingTasks)
            .OrderByDescending(t => t.Blocked!.Site is { Line: > 0 })
            .ThenByDescending(t => t.Blocked!.Seq)
            .SelectMany(t => ((AwaitingTasks)t.Blocked!).Targets.Where(p => p > 0 && this.log.Task(p).Promise && !view.Ended(p)).Select(p => (t, p)))
            .Select(x => ((TaskState, int)?)x)
            .FirstOrDefault();

    private Diagnosis Result(FailureKind kind, string sentence, IReadOnlyList<string> resources, IReadOnlyList<WaitLink> cycle, IReadOnlyList<string> consequences) =>
        new(kind, sentence, consequences, resources, cycle, this.holdings, this.waitings, message);

    private List<string> Consequence() => this.messageKind switch
    {
        FailureKind.InvariantViolation => [$"Invariant failed: {FailureMessage.FirstLine(message)}"],
        FailureKind.UnhandledException => [$"Exception: {FailureMessage.ExceptionText(message)}"],
        FailureKind.Deadlock => ["Deadlock: the remaining tasks are blocked for ever."],
        _ => [],
    };


    private ResourceState? MissingPermits() =>
        this.state.Resources.Values.FirstOrDefault(r => r.Info.Kind == ResourceKind.Semaphore && !r.Declared && r.Count < r.Info.Initial);

    private List<Holding> Holdings() =>
        this.state.Resources.Values
            .SelectMany(r => r.Holders.Where(h => h.Value > 0).Select(h => new Holding(r.Info.Name, view.TaskName(h.Key), h.Value, r.AcquireSites.GetValueOrDefault(h.Key), view.Ended(h.Key))))
            .ToList();

    private List<Waiting> Waitings() =>
        this.state.Tasks.Values
            .Where(t => !t.Ended && t.Blocked is not null && !this.AwaitsOnlyItself(t))
            .Select(t => new Waiting(view.TaskName(t.Id), this.Describe(t.Blocked!), t.Blocked!.Site))
            .ToList();

    private bool AwaitsOnlyItself(TaskState task) =>
        task.Blocked is AwaitingTasks a && a.Targets.All(t => t > 0 && view.Logical(t) == view.Logical(task.Id));

    private string Describe(Blocking blocking) => blocking switch
    {
        WaitingForResource w => $"waits at {LogView.Short(w.Site)} for `{view.ResourceName(w.Resource)}`",
        WaitingForPulse p => $"waits in Monitor.Wait at {LogView.Short(p.Site)} for a pulse of `{view.ResourceName(p.Resource)}`",
        AwaitingTasks a => $"awaits {string.Join(", ", a.Targets.Select(t => $"`{view.TaskName(t)}`"))} at {LogView.Short(a.Site)}",
        _ => "is blocked",
    };

    private Diagnosis FromCycle(List<WaitForCycles.Edge> cycle)
    {
        var resources = cycle.Where(e => e.Resource != 0).Select(e => e.Resource).Distinct().ToList();
        var links = cycle.Select(e => new WaitLink(view.TaskName(e.From), e.Resource != 0 ? view.ResourceName(e.Resource) : null, e.Site, view.TaskName(e.To))).ToList();
        var names = resources.Select(view.ResourceName).ToList();
        if (cycle.Count == 1 && cycle[0].From == cycle[0].To && cycle[0].Resource != 0)
        {
            return this.Result(FailureKind.SelfDeadlock, this.WaitsForItsOwn(cycle[0]), names, links, []);
        }

        if (resources.Count >= 2)
        {
            return this.Result(FailureKind.LockOrderDeadlock, this.LockOrderCycle(cycle) + ": a lock-order cycle.", names, links, []);
        }

        if (resources.Count == 1)
        {
            return this.OneResourceCycle(cycle, resources[0], names, links);
        }

        var chain = string.Join(", which ", cycle.Select(e => $"`{view.TaskName(e.From)}` awaits `{view.TaskName(e.To)}` at {LogView.Short(e.Site)}"));
        return this.Result(FailureKind.Deadlock, $"Tasks await each other in a cycle: {chain}.", names, links, []);
    }

    /// <summary>A task waits for a resource it already holds.</summary>
    private string WaitsForItsOwn(WaitForCycles.Edge edge)
    {
        var taken = this.state.Resources[edge.Resource].AcquireSites
            .Where(s => view.Logical(s.Key) == edge.From && this.state.Resources[edge.Resource].Holders.GetValueOrDefault(s.Key) > 0)
            .Select(s => s.Value).FirstOrDefault();
        return $"Task `{view.TaskName(edge.From)}` waits at {LogView.Short(edge.Site)} for `{view.ResourceName(edge.Resource)}`, which it already holds " +
            $"(taken at {LogView.Short(taken)}): a self-deadlock.";
    }

    /// <summary>Each task of the cycle in turn, and what it waits for from the next.</summary>
    private string LockOrderCycle(List<WaitForCycles.Edge> cycle)
    {
        var parts = new List<string>();
        for (var i = 0; i < cycle.Count; i++)
        {
            var e = cycle[i];
            var holds = e.Resource != 0 && this.state.Resources[e.Resource].HeldBy.Any(h => view.Logical(h) == e.To);
            var what = e.Resource == 0 ? $"awaits `{view.TaskName(e.To)}` at {LogView.Short(e.Site)}"
                : holds ? $"waits at {LogView.Short(e.Site)} for `{view.ResourceName(e.Resource)}`, held by `{view.TaskName(e.To)}`"
                : $"waits at {LogView.Short(e.Site)} for `{view.ResourceName(e.Resource)}`, which only `{view.TaskName(e.To)}` releases";
            parts.Add(i == 0 ? $"Task `{view.TaskName(e.From)}` {what}" : $"which {what}");
        }

        return string.Join(", ", parts);
    }

    /// <summary>A cycle through one resource: a lock its holder waits for again through a nested call, or every permit held by tasks that await its waiters.</summary>
    private Diagnosis OneResourceCycle(List<WaitForCycles.Edge> cycle, int id, List<string> names, List<WaitLink> links)
    {
        var resource = this.log.Resource(id);
        var waitEdge = cycle.First(e => e.Resource != 0);
        var holders = this.state.Resources[resource.Id].HeldBy.Select(view.TaskName).Distinct().ToList();
        if (LockOrder.IsLock(resource))
        {
            var taken = this.state.Resources[resource.Id].AcquireSites.Where(s => view.Logical(s.Key) == waitEdge.To).Select(s => s.Value).FirstOrDefault();
            var sentence = $"Task `{view.TaskName(waitEdge.To)}` holds `{resource.Name}`{(taken is null ? "" : $" (taken at {LogView.Short(taken)})")} and awaits work in which `{view.TaskName(waitEdge.From)}` waits at {LogView.Short(waitEdge.Site)} " +
                $"for that same `{resource.Name}`: a self-deadlock through a nested call.";
            return this.Result(FailureKind.SelfDeadlock, sentence, names, links, []);
        }

        var all = $"All {resource.Limit} permits of `{resource.Name}` are held by {string.Join(", ", holders.Select(h => $"`{h}`"))}, which await tasks that wait at {LogView.Short(waitEdge.Site)} for a permit of `{resource.Name}`: hold-and-wait exhaustion.";
        return this.Result(FailureKind.HoldAndWait, all, names, links, []);
    }
}
