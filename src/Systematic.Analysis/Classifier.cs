using System.Globalization;
using Systematic.Recording;

namespace Systematic.Analysis;

/// <summary>
/// Computes a failure's kind from what happened in the recorded iteration, never from test names: the root cause
/// first (a leak that starves later waiters is a <see cref="FailureKind.Leak"/>), its consequences after.
/// </summary>
internal static class Classifier
{
    /// <summary>Explains the failure <paramref name="message"/> that ended the iteration recorded in <paramref name="log"/>.</summary>
    public static Diagnosis Classify(IterationLog? log, string message)
    {
        message = message.Trim();
        if (log is null || log.Tasks.Count == 0)
        {
            return FromMessageOnly(message);
        }

        var view = new LogView(log);
        var analysis = new Analysis(view, message);
        return analysis.Run();
    }

    /// <summary>Gets the kind a message alone suggests, when nothing was recorded.</summary>
    public static Diagnosis FromMessageOnly(string message)
    {
        var kind = MessageKind(message);
        var sentence = kind switch
        {
            FailureKind.Deadlock => "Tasks are blocked for ever on something Systematic's probes did not record (a task nobody completes, or code outside the instrumented assembly).",
            FailureKind.Hang => message.Contains("Scheduling steps bound", StringComparison.Ordinal)
                ? $"The test did not finish within the scheduling-step bound: it spins or livelocks ({FirstLine(message)})"
                : $"The test made no progress within its bound: {FirstLine(message)}",
            FailureKind.UnhandledException => $"An exception escaped the test: {ExceptionText(message)}" + (ThrowSite(message) is { } thrown ? $" (thrown at {thrown})" : ""),
            FailureKind.OverRelease => $"A semaphore was released above its limit: {FirstLine(message)}",
            FailureKind.Leak => FirstLine(message.Replace(Recorder.FailurePrefix + "Leak: ", "", StringComparison.Ordinal)),
            FailureKind.Uncontrolled => $"Coyote stopped the test: {FirstLine(message)} This is a limit of the harness, not a verdict on the code.",
            _ => $"An invariant failed: {FirstLine(message)}",
        };
        return new Diagnosis(kind, sentence, [], [], [], [], [], message);
    }

    internal static FailureKind MessageKind(string message)
    {
        if (message.StartsWith(Recorder.FailurePrefix + "Leak", StringComparison.Ordinal))
        {
            return FailureKind.Leak;
        }

        if (message.StartsWith(Recorder.FailurePrefix + "OverRelease", StringComparison.Ordinal) || message.Contains("SemaphoreFullException", StringComparison.Ordinal))
        {
            return FailureKind.OverRelease;
        }

        if (message.Contains("is not controlled and is invoking", StringComparison.Ordinal) || message.Contains("created in a previous test iteration", StringComparison.Ordinal) ||
            message.Contains("is not intercepted and controlled", StringComparison.Ordinal))
        {
            // Coyote's own checks: code it does not control touched what it does.
            return FailureKind.Uncontrolled;
        }

        if (message.Contains("Deadlock detected", StringComparison.Ordinal) || message.Contains("Potential deadlock", StringComparison.Ordinal))
        {
            return FailureKind.Deadlock;
        }

        if (message.Contains("Scheduling steps bound", StringComparison.Ordinal) || message.Contains("hang detected", StringComparison.OrdinalIgnoreCase) || message.Contains("liveness", StringComparison.OrdinalIgnoreCase) ||
            message.Contains("maximum number of", StringComparison.OrdinalIgnoreCase) || message.Contains("Reached the maximum", StringComparison.OrdinalIgnoreCase))
        {
            return FailureKind.Hang;
        }

        if (message.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase) || message.StartsWith("Exception", StringComparison.Ordinal))
        {
            return FailureKind.UnhandledException;
        }

        return FailureKind.InvariantViolation;
    }

    /// <summary>
    /// Where the exception in <paramref name="message"/> was thrown: the innermost frame of the code under test with a
    /// source line (<c>MonitorQueue.cs:23 in MonitorQueue.TakeIf</c>). A frame whose source file is on this machine comes
    /// first: an assertion library's own frames (built elsewhere, <c>/_/src/...</c>) are not where the test failed.
    /// </summary>
    internal static string? ThrowSite(string message)
    {
        var frames = message.Split('\n').Select(Frame).OfType<(string File, string Line, string Method)>().ToList();
        var (file, line, method) = frames.FirstOrDefault(f => File.Exists(f.File)) is { File: not null } here ? here : frames.FirstOrDefault();
        if (file is null)
        {
            return null;
        }

        var name = method.Split('(')[0].Replace("`1", "", StringComparison.Ordinal).Replace("`2", "", StringComparison.Ordinal);
        var parts = name.Split('.');
        var shortName = parts.Length >= 2 ? $"{parts[^2]}.{parts[^1]}" : name;
        var slash = Math.Max(file.LastIndexOf('/'), file.LastIndexOf('\\'));
        return $"{file[(slash + 1)..]}:{line} in {shortName}";
    }

    /// <summary>
    /// The exception's type and message as the failure shows them: every line before its stack trace (an assertion's
    /// expected and actual values), joined with "; ", at most 6 lines and 600 characters.
    /// </summary>
    internal static string ExceptionText(string message)
    {
        const string CoyoteUnhandled = "Unhandled exception. ";
        var lines = message.Split('\n')
            .Select(l => l.Trim())
            .TakeWhile(l => !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("--- ", StringComparison.Ordinal))
            .Where(l => l.Length > 0)
            .Take(6)
            .Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        var text = string.Join("; ", lines);
        text = text.StartsWith(CoyoteUnhandled, StringComparison.Ordinal) ? text[CoyoteUnhandled.Length..] : text;
        return text.Length > 600 ? text[..600] + "…" : text;
    }

    /// <summary>A stack frame of the code under test with a source line, or null for any other line.</summary>
    private static (string File, string Line, string Method)? Frame(string raw)
    {
        var frame = raw.Trim();
        var at = frame.LastIndexOf(" in ", StringComparison.Ordinal);
        var line = frame.LastIndexOf(":line ", StringComparison.Ordinal);
        if (!frame.StartsWith("at ", StringComparison.Ordinal) || at < 0 || line < at)
        {
            return null;
        }

        var method = frame[3..at];
        if (method.StartsWith("System.", StringComparison.Ordinal) || method.StartsWith("Microsoft.Coyote.", StringComparison.Ordinal) ||
            method.StartsWith("Systematic.Recording.", StringComparison.Ordinal) || method.StartsWith("Systematic.Harness.", StringComparison.Ordinal))
        {
            return null;
        }

        return (frame[(at + 4)..line], frame[(line + 6)..].Trim(), method);
    }

    internal static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    private sealed class Analysis(LogView view, string message)
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
            this.messageKind = this.log.Detected?.Kind ?? MessageKind(message);
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
                ?? FromMessageOnly(message) with { Kind = this.messageKind == FailureKind.None ? MessageKind(message) : this.messageKind, Holdings = this.holdings, Waitings = this.waitings };
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
                what = FirstLine(message) + (this.log.UncontrolledCalls.Count > 0 ? $" (after {this.Calls()})" : "");
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

            return this.messageKind == FailureKind.OverRelease ? FromMessageOnly(message) with { Holdings = this.holdings, Waitings = this.waitings } : null;
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
            var sentence = $"Task `{view.TaskName(leak.Task)}` took `{view.ResourceName(leak.Resource)}` at {LogView.Short(leak.Site)} and finished without releasing it; " +
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
            this.messageKind is FailureKind.Deadlock or FailureKind.Hang && this.blocked.Count > 0 && this.FindCycle(this.blocked) is { Count: > 0 } cycle
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
            var sentence = $"Task `{view.TaskName(leak.Task)}` took `{resource.Name}` at {LogView.Short(leak.Site)} and finished without releasing it: " +
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
            FailureKind.InvariantViolation => [$"Invariant failed: {FirstLine(message)}"],
            FailureKind.UnhandledException => [$"Exception: {ExceptionText(message)}"],
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

        /// <summary>An edge of the wait-for graph between logical tasks.</summary>
        private sealed record Edge(int From, int To, int Resource, SourceSite? Site, int Waiter);

        private List<Edge> Edges(IEnumerable<TaskState> blocked)
        {
            var edges = new List<Edge>();
            var live = this.state.Tasks.Values.Where(t => !t.Ended).Select(t => t.Id).ToList();
            foreach (var task in blocked)
            {
                var from = view.Logical(task.Id);
                switch (task.Blocked)
                {
                    case WaitingForResource w:
                        var resource = this.state.Resources[w.Resource];
                        var blockers = resource.HeldBy.Where(h => !view.Ended(h)).ToList();
                        if (resource.IsSignaling)
                        {
                            blockers.AddRange(resource.ForeignReleasers.Where(h => !view.Ended(h)));
                        }

                        if (resource.Info.Releasers is { Count: > 0 } releasers)
                        {
                            // A signal by its call sites: the live tasks running the code that releases it are the ones it waits for.
                            blockers.AddRange(live.Where(t => view.Logical(t) != from && this.Runs(t, releasers)));
                        }

                        if (!LockOrder.IsLock(resource.Info) && blockers.All(b => view.Logical(b) == from))
                        {
                            // A counting semaphore only the waiter holds: the other tasks blocked on resources are the ones expected to release it.
                            blockers.AddRange(live.Where(t => view.Logical(t) != from && this.state.Tasks[t].Blocked is WaitingForResource));
                        }

                        foreach (var blocker in blockers.Distinct())
                        {
                            edges.Add(new Edge(from, view.Logical(blocker), w.Resource, w.Site, task.Id));
                        }

                        break;
                    case AwaitingTasks a:
                        foreach (var target in a.Targets.Where(t => t > 0 && !view.Ended(t)))
                        {
                            if (view.Logical(target) != from)
                            {
                                edges.Add(new Edge(from, view.Logical(target), 0, a.Site, task.Id));
                            }
                        }

                        break;
                }
            }

            return edges;
        }

        /// <summary>Whether task <paramref name="task"/> (or a call it made that runs as part of it) runs one of <paramref name="methods"/>, or is blocked inside one.</summary>
        private bool Runs(int task, IReadOnlyList<string> methods)
        {
            var logical = view.Logical(task);
            var blockedIn = this.state.Tasks.TryGetValue(task, out var s) && s.Blocked is { Site: { } site } ? site.Method : null;
            return (blockedIn is not null && methods.Contains(blockedIn)) ||
                this.log.Tasks.Any(t => view.Logical(t.Id) == logical && methods.Any(m => t.Entry == m || t.Entry.EndsWith("." + m, StringComparison.Ordinal)));
        }

        private List<Edge> FindCycle(IEnumerable<TaskState> blocked)
        {
            var edges = this.Edges(blocked);
            var byFrom = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Resource == 0 ? 1 : 0).ToList());
            List<Edge>? best = null;
            foreach (var start in byFrom.Keys.OrderBy(k => k))
            {
                var path = new List<Edge>();
                var onPath = new HashSet<int>();
                if (Search(start) && (best is null || Score(path) > Score(best)))
                {
                    best = path;
                }

                bool Search(int node)
                {
                    onPath.Add(node);
                    foreach (var edge in byFrom.GetValueOrDefault(node) ?? [])
                    {
                        path.Add(edge);
                        if (edge.To == start || (!onPath.Contains(edge.To) && Search(edge.To)))
                        {
                            return true;
                        }

                        path.RemoveAt(path.Count - 1);
                    }

                    onPath.Remove(node);
                    return false;
                }
            }

            return best ?? [];

            static int Score(List<Edge> cycle) => cycle.Count(e => e.Resource != 0) * 100 - cycle.Count;
        }

        private Diagnosis FromCycle(List<Edge> cycle)
        {
            var resources = cycle.Where(e => e.Resource != 0).Select(e => e.Resource).Distinct().ToList();
            var links = cycle.Select(e => new WaitLink(view.TaskName(e.From), e.Resource != 0 ? view.ResourceName(e.Resource) : null, e.Site, view.TaskName(e.To))).ToList();
            var names = resources.Select(view.ResourceName).ToList();
            if (cycle.Count == 1 && cycle[0].From == cycle[0].To && cycle[0].Resource != 0)
            {
                var edge = cycle[0];
                var taken = this.state.Resources[edge.Resource].AcquireSites
                    .Where(s => view.Logical(s.Key) == edge.From && this.state.Resources[edge.Resource].Holders.GetValueOrDefault(s.Key) > 0)
                    .Select(s => s.Value).FirstOrDefault();
                var sentence = $"Task `{view.TaskName(edge.From)}` waits at {LogView.Short(edge.Site)} for `{view.ResourceName(edge.Resource)}`, which it already holds " +
                    $"(taken at {LogView.Short(taken)}): a self-deadlock.";
                return this.Result(FailureKind.SelfDeadlock, sentence, names, links, []);
            }

            if (resources.Count >= 2)
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

                return this.Result(FailureKind.LockOrderDeadlock, string.Join(", ", parts) + ": a lock-order cycle.", names, links, []);
            }

            if (resources.Count == 1)
            {
                var resource = this.log.Resource(resources[0]);
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

            var chain = string.Join(", which ", cycle.Select(e => $"`{view.TaskName(e.From)}` awaits `{view.TaskName(e.To)}` at {LogView.Short(e.Site)}"));
            return this.Result(FailureKind.Deadlock, $"Tasks await each other in a cycle: {chain}.", names, links, []);
        }
    }
}
