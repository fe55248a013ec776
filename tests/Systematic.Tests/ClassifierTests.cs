using Systematic.Analysis;
using Systematic.Recording;

namespace Systematic.Tests;

/// <summary>
/// The fast tier: each rule of the classifier over a log built by hand, with the shape it names and a near miss it
/// must not name, in milliseconds and without Coyote.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class ClassifierTests
{
    private const string CoyoteDeadlock = "Deadlock detected. Op(3) and Op(5) are waiting to acquire a resource that is already acquired, but no other controlled operations are enabled.";

    [Fact]
    public void TwoTasksHoldingWhatTheOtherWaitsForAreALockOrderCycle()
    {
        var log = new LogBuilder();
        var (a, b) = (log.Lock("Account._gate#1"), log.Lock("Account._gate#2"));
        var (t1, t2) = (log.Task("Transfer#1"), log.Task("Transfer#2"));
        log.Acquire(t1, a, 10).Acquire(t2, b, 10).Wait(t1, b, 12).Wait(t2, a, 12);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.LockOrderDeadlock, diagnosis.Kind);
        Assert.Equal(["Account._gate#1", "Account._gate#2"], diagnosis.Resources.Order(StringComparer.Ordinal));
        Assert.Contains("a lock-order cycle", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AWaitForAFreeLockIsNoCycle()
    {
        var log = new LogBuilder();
        var (a, b, c) = (log.Lock("A"), log.Lock("B"), log.Lock("C"));
        var (t1, t2) = (log.Task("First"), log.Task("Second"));
        log.Acquire(t1, a, 10).Acquire(t2, b, 10).Wait(t1, b, 12).Wait(t2, c, 12);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.NotEqual(FailureKind.LockOrderDeadlock, diagnosis.Kind);
    }

    [Fact]
    public void WaitingForALockOneHoldsIsASelfDeadlockNamingWhereItWasTaken()
    {
        var log = new LogBuilder();
        var gate = log.Lock("Cache._gate");
        var t = log.Task("Refresh");
        log.Acquire(t, gate, 20).Wait(t, gate, 31);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.SelfDeadlock, diagnosis.Kind);
        Assert.Contains("which it already holds (taken at Code.cs:20)", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void HoldingALockWhileAwaitingWorkThatWaitsForItIsASelfDeadlockThroughANestedCall()
    {
        var log = new LogBuilder();
        var gate = log.Lock("Store._sync");
        var (writer, callback) = (log.Task("WriteAsync"), log.Task("OnChanged"));
        log.Acquire(writer, gate, 40).Await(writer, 44, callback).Wait(callback, gate, 12);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.SelfDeadlock, diagnosis.Kind);
        Assert.Contains("`WriteAsync` holds `Store._sync` (taken at Code.cs:40) and awaits work in which `OnChanged` waits at Code.cs:12", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryPermitOfACountingSemaphoreHeldByTasksAwaitingItsWaitersIsHoldAndWait()
    {
        var log = new LogBuilder();
        var pool = log.Semaphore("Crawler._slots", permits: 2);
        var (p1, p2, c1, c2) = (log.Task("Crawl#1"), log.Task("Crawl#2"), log.Task("Fetch#1"), log.Task("Fetch#2"));
        log.Acquire(p1, pool, 5).Acquire(p2, pool, 5).Await(p1, 8, c1).Await(p2, 8, c2).Wait(c1, pool, 15).Wait(c2, pool, 15);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.HoldAndWait, diagnosis.Kind);
    }

    [Fact]
    public void ATaskThatFinishedHoldingAPermitOthersWaitForIsALeakNotADeadlock()
    {
        var log = new LogBuilder();
        var pool = log.Semaphore("Gateway._throttle", permits: 1);
        var (t1, t2) = (log.Task("Capture#1"), log.Task("Capture#2"));
        log.Acquire(t1, pool, 20).End(t1).Wait(t2, pool, 20);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.Leak, diagnosis.Kind);
        Assert.StartsWith("Task `Capture#1` took `Gateway._throttle` at Code.cs:20 and finished without releasing it; `Capture#2` waits", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void ALeakOnAnExceptionPathSaysWhichExceptionEndedTheHolderAndWhereItWasThrown()
    {
        var log = new LogBuilder();
        var pool = log.Semaphore("Gateway._throttle", permits: 1);
        var (t1, t2) = (log.Task("Capture#1"), log.Task("Capture#2"));
        log.Acquire(t1, pool, 20).EndedBy(t1, "OperationCanceledException", 21).Wait(t2, pool, 20);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.Leak, diagnosis.Kind);
        Assert.StartsWith("Task `Capture#1` took `Gateway._throttle` at Code.cs:20 and finished, by an OperationCanceledException thrown at Code.cs:21, without releasing it; `Capture#2` waits", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void ASignalTakenByATaskThatFinishedIsNoLeak()
    {
        var log = new LogBuilder();
        var items = log.Semaphore("Buffer._items", permits: 0, releasers: ["Buffer.PostAsync"]);
        var gate = log.Lock("Buffer._gate");
        var (consumer, other) = (log.Task("TakeAsync"), log.Task("Audit"));
        log.Release(log.Task("PostAsync"), items, 30).Acquire(consumer, items, 40).End(consumer).Acquire(other, gate, 9).Wait(other, gate, 11);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.NotEqual(FailureKind.Leak, diagnosis.Kind);
    }

    [Fact]
    public void ACycleThroughASignalNamesTheCodeThatAloneReleasesItBeforeItEverRan()
    {
        var log = new LogBuilder();
        var mutex = log.Lock("Spool._mutex");
        var slots = log.Semaphore("Spool._slots", permits: 0, releasers: ["Spool.NextAsync"]);
        var (printer, consumer) = (log.Task("PrintAsync"), log.Task("NextAsync"));
        log.Acquire(printer, mutex, 20).Wait(printer, slots, 27).Wait(consumer, mutex, 42);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.LockOrderDeadlock, diagnosis.Kind);
        Assert.Contains("for `Spool._slots`, which only `NextAsync` releases", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AWaitForASemaphoreNoRunningCodeReleasesIsNoCycleWithoutItsReleasers()
    {
        var log = new LogBuilder();
        var mutex = log.Lock("Spool._mutex");
        var slots = log.Semaphore("Spool._slots", permits: 0);
        var (printer, consumer) = (log.Task("PrintAsync"), log.Task("Unrelated"));
        log.Acquire(printer, mutex, 20).Wait(printer, slots, 27).Acquire(consumer, log.Lock("Other"), 3).Await(consumer, 5, log.Promise("TaskCompletionSource _done (Code.cs:1)"));

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.NotEqual(FailureKind.LockOrderDeadlock, diagnosis.Kind);
    }

    [Fact]
    public void WaitersInMonitorWaitThatNoRunningTaskCanPulseAreALostWakeupNamingThePulse()
    {
        var log = new LogBuilder();
        var monitor = log.Monitor("Queue._sync");
        var (p1, p2, c1) = (log.Task("Put#1"), log.Task("Put#2"), log.Task("Take#1"));
        log.WaitForPulse(c1, monitor, 33).WaitForPulse(p2, monitor, 19).Pulse(p1, monitor, 51, woken: p2).WaitForPulse(p2, monitor, 19).End(p1);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.LostWakeup, diagnosis.Kind);
        Assert.Equal(["Queue._sync"], diagnosis.Resources);
        Assert.Contains("The last Pulse of `Queue._sync`, at Code.cs:51 by `Put#1`, woke `Put#2` only, which waited again: PulseAll would have woken every waiter.", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AWaitForALockHeldByALiveTaskIsNoLostWakeup()
    {
        var log = new LogBuilder();
        var (monitor, other) = (log.Monitor("Queue._sync"), log.Lock("Queue._other"));
        var (t1, t2) = (log.Task("Sleeper"), log.Task("Holder"));
        log.WaitForPulse(t1, monitor, 10).Acquire(t2, other, 3).Wait(log.Task("Waiter"), other, 4);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.NotEqual(FailureKind.LostWakeup, diagnosis.Kind);
    }

    [Fact]
    public void ATaskAwaitingATaskCompletionSourceNobodyCompletesIsADeadlockNamingTheSource()
    {
        var log = new LogBuilder();
        var promise = log.Promise("TaskCompletionSource Warmup._ready (Warmup.cs:6)");
        var waiter = log.Task("CountShowsAsync");
        log.Await(waiter, 42, promise);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.Deadlock, diagnosis.Kind);
        Assert.Equal("`CountShowsAsync` awaits `TaskCompletionSource Warmup._ready (Warmup.cs:6)` at Code.cs:42, and no task still running completes it: it is blocked for ever.", diagnosis.Sentence);
    }

    [Fact]
    public void ACompletedSourceIsNotTheCause()
    {
        var log = new LogBuilder();
        var promise = log.Promise("TaskCompletionSource _ready (Warmup.cs:6)");
        var waiter = log.Task("CountShowsAsync");
        log.Await(waiter, 42, promise).End(promise).Wait(waiter, log.Lock("L"), 43);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.DoesNotContain("TaskCompletionSource", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AFailureTheRecorderDetectedIsTakenAsItIsNotParsedFromItsMessage()
    {
        var log = new LogBuilder();
        var pool = log.Semaphore("Pool._free", permits: 2);
        var t = log.Task("Borrow");
        log.Acquire(t, pool, 7).End(t);
        log.Detect(new DetectedFailure(FailureKind.Leak, [pool], [t], null));

        var diagnosis = Classifier.Classify(log.Build(), "any words at all");

        Assert.Equal(FailureKind.Leak, diagnosis.Kind);
        Assert.Equal(["Pool._free"], diagnosis.Resources);
    }

    [Fact]
    public void AnOverReleaseEventIsAnOverReleaseAndARelease()
    {
        var log = new LogBuilder();
        var bounded = log.Semaphore("Limiter._tokens", permits: 1);
        var t = log.Task("Refill");
        log.OverRelease(t, bounded, 60);

        var diagnosis = Classifier.Classify(log.Build(), "[systematic] OverRelease: whatever");

        Assert.Equal(FailureKind.OverRelease, diagnosis.Kind);
        Assert.StartsWith("Task `Refill` releases `Limiter._tokens` at Code.cs:60 without a matching acquire", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AnABBADeadlockNeedsOnePreemption()
    {
        var log = new LogBuilder();
        var (a, b) = (log.Lock("A"), log.Lock("B"));
        var (t1, t2) = (log.Task("Transfer#1"), log.Task("Transfer#2"));

        // Transfer#1 takes A and could go on, but Transfer#2 runs (the one preemption), takes B and blocks on A; then Transfer#1 blocks on B.
        log.Await(1, 5, t1, t2).Acquire(t1, a, 10).Acquire(t2, b, 10).BlockedOn(t2, a, 12).BlockedOn(t1, b, 12);

        Assert.Equal(1, Analysis.ScheduleStats.Preempted(log.Build()));
    }

    [Fact]
    public void AThreeLockCycleNeedsTwoPreemptions()
    {
        var log = new LogBuilder();
        var (a, b, c) = (log.Lock("A"), log.Lock("B"), log.Lock("C"));
        var (t1, t2, t3) = (log.Task("First"), log.Task("Second"), log.Task("Third"));
        log.Await(1, 5, t1, t2, t3).Acquire(t1, a, 1).Acquire(t2, b, 1).Acquire(t3, c, 1).BlockedOn(t3, a, 2).BlockedOn(t2, c, 2).BlockedOn(t1, b, 2);

        Assert.Equal(2, Analysis.ScheduleStats.Preempted(log.Build()));
    }

    [Fact]
    public void ALeakOnAnExceptionPathNeedsNoPreemption()
    {
        var log = new LogBuilder();
        var pool = log.Semaphore("Pool", permits: 1);
        var (t1, t2) = (log.Task("Capture#1"), log.Task("Capture#2"));

        // Capture#1 takes the permit and finishes (throws) without releasing it; only then Capture#2 runs and waits.
        log.Await(1, 5, t1, t2).Acquire(t1, pool, 20).End(t1).BlockedOn(t2, pool, 20);

        Assert.Equal(0, Analysis.ScheduleStats.Preempted(log.Build()));
    }

    [Fact]
    public void TasksBlockedAfterCallingUncontrolledCodeAreNotCalledADeadlockButNamedWithTheCall()
    {
        var log = new LogBuilder();
        var (producer, consumer) = (log.Task("ProduceAsync"), log.Task("ConsumeAsync"));
        log.Await(1, 5, producer, consumer).Uncontrolled(consumer, "ChannelReader.WaitToReadAsync", 33).Await(consumer, 33, log.Promise("task from ChannelReader"));

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.Uncontrolled, diagnosis.Kind);
        Assert.Contains("`ChannelReader.WaitToReadAsync` at Code.cs:33 by `ConsumeAsync`", diagnosis.Sentence, StringComparison.Ordinal);
        Assert.Contains("may be a false alarm", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUncontrolledCallBySomeTaskThatIsNotBlockedLeavesADeadlockADeadlock()
    {
        var log = new LogBuilder();
        var (logger, waiter) = (log.Task("Flush"), log.Task("Wait"));
        var promise = log.Promise("TaskCompletionSource ready (Code.cs:3)");
        log.Await(1, 5, logger, waiter).Uncontrolled(logger, "ThreadPool.QueueUserWorkItem", 40).End(logger).Await(waiter, 12, promise);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.Deadlock, diagnosis.Kind);
    }

    [Fact]
    public void ALockOrderCycleStaysOneWhateverElseWasCalled()
    {
        var log = new LogBuilder();
        var (a, b) = (log.Lock("A"), log.Lock("B"));
        var (t1, t2) = (log.Task("First"), log.Task("Second"));
        log.Uncontrolled(t1, "ChannelWriter.WriteAsync", 3).Acquire(t1, a, 10).Acquire(t2, b, 10).Wait(t1, b, 12).Wait(t2, a, 12);

        Assert.Equal(FailureKind.LockOrderDeadlock, Classifier.Classify(log.Build(), CoyoteDeadlock).Kind);
    }

    [Fact]
    public void CoyoteRejectingAnObjectFromBeforeTheIterationNamesItAndSaysItIsNoVerdict()
    {
        var log = new LogBuilder();
        var t = log.Task("CallAsync");
        var gate = log.Semaphore("UpstreamThrottle.Gate", permits: 1);

        var diagnosis = Classifier.Classify(log.Build(), "Accessing 'SemaphoreSlim(98365c27)' that was created in a previous test iteration with runtime id 'dc197f3b':");

        Assert.Equal(FailureKind.Uncontrolled, diagnosis.Kind);
        Assert.Equal(["UpstreamThrottle.Gate"], diagnosis.Resources);
        Assert.Contains("`UpstreamThrottle.Gate` (made at Code.cs:1) was made before this iteration began", diagnosis.Sentence, StringComparison.Ordinal);
        Assert.Contains("not a verdict on the code", diagnosis.Sentence, StringComparison.Ordinal);
        _ = (t, gate);
    }

    [Fact]
    public void AThreadCoyoteDidNotStartIsTracedToTheCallThatStartedIt()
    {
        var log = new LogBuilder();
        var pool = log.Semaphore("Crawler._pool", permits: 2);
        log.Uncontrolled(1, "Parallel.ForEachAsync", 16).Wait(1, pool, 20);

        var diagnosis = Classifier.Classify(log.Build(), "Executing thread '5' is not controlled and is invoking the SemaphoreSlim.Wait synchronization method, which can cause deadlocks during testing.");

        Assert.Equal(FailureKind.Uncontrolled, diagnosis.Kind);
        Assert.Contains("a thread Coyote did not start called SemaphoreSlim.Wait; the thread comes from `Parallel.ForEachAsync` at Code.cs:16", diagnosis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExceptionThatEscapesIsPlacedAtTheInnermostFrameOfTheCodeUnderTest()
    {
        const string message = """
            Unhandled exception. System.InvalidOperationException: Queue empty.
               at System.Collections.Generic.Queue`1.ThrowForEmptyQueue()
               at System.Collections.Generic.Queue`1.Dequeue()
               at Pipeline.MonitorQueue`1.TakeIf() in /src/Pipeline/MonitorQueue.cs:line 23
               at Systematic.Recording.TaskProbes.RunAs[T](Int32 id, Func`1 body) in /work/src/Systematic.Recording/TaskProbes.cs:line 253
               at Pipeline.Tests.PipelineTests.MonitorIfInsteadOfWhileBuggy() in /src/Pipeline.Tests/PipelineTests.cs:line 40
            """;

        var diagnosis = Classifier.FromMessageOnly(message);

        Assert.Equal(FailureKind.UnhandledException, diagnosis.Kind);
        Assert.EndsWith("Queue empty. (thrown at MonitorQueue.cs:23 in MonitorQueue.TakeIf)", diagnosis.Sentence, StringComparison.Ordinal);
        Assert.DoesNotContain("thrown at", Classifier.FromMessageOnly("Unhandled exception. System.Exception: boom\n   at Lib.Worker.Run()").Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void ALockTakenInAnAsyncHelperIsPlacedAtTheCallsThatTookItInOppositeOrders()
    {
        // Transfer(from, to) { var a = await LockAsync(from); /* 42 */ var b = await LockAsync(to); /* 43 */ }, each LockAsync waiting at line 36.
        var log = new LogBuilder();
        var (a, b) = (log.Lock("locks[a]"), log.Lock("locks[b]"));
        var (t1, t2) = (log.Task("Transfer#1"), log.Task("Transfer#2"));
        log.InHelperCalledAt(42).Acquire(t1, a, 36).InHelperCalledAt(42).Acquire(t2, b, 36)
            .InHelperCalledAt(43).Wait(t1, b, 36).InHelperCalledAt(43).Wait(t2, a, 36);

        var diagnosis = Classifier.Classify(log.Build(), CoyoteDeadlock);

        Assert.Equal(FailureKind.LockOrderDeadlock, diagnosis.Kind);
        Assert.Contains("waits at Code.cs:36 via Code.cs:43 for `locks[", diagnosis.Sentence, StringComparison.Ordinal);
        Assert.All(diagnosis.Holdings, h => Assert.Equal(42, h.Site!.CalledFrom!.Line));
        Assert.All(diagnosis.Cycle, l => Assert.Equal("Code.cs:36 via Code.cs:43", l.Site!.Described));
    }

    [Fact]
    public void AFailedAssertionKeepsItsExpectedAndActualValuesAndIsPlacedInTheTestNotInTheAssertionLibrary()
    {
        var test = Path.Combine(Path.GetTempPath(), $"CounterTests-{Guid.NewGuid():N}.cs");
        File.WriteAllText(test, "// the test's source, on this machine");
        try
        {
            var message = $"""
                Unhandled exception. Xunit.Sdk.EqualException: Assert.Equal() Failure: Values differ
                Expected: 2
                Actual:   1
                   at Xunit.Assert.Equal[T](T expected, T actual, IEqualityComparer`1 comparer) in /_/src/xunit.v3.assert/Asserts/EqualityAsserts.cs:line 102
                   at Shop.Tests.CounterTests.LostUpdate() in {test}:line 12
                """;

            var diagnosis = Classifier.FromMessageOnly(message);

            Assert.Equal(FailureKind.UnhandledException, diagnosis.Kind);
            Assert.Equal(
                $"An exception escaped the test: Xunit.Sdk.EqualException: Assert.Equal() Failure: Values differ; Expected: 2; Actual: 1 (thrown at {Path.GetFileName(test)}:12 in CounterTests.LostUpdate)",
                diagnosis.Sentence);
            Assert.EndsWith("(thrown at EqualityAsserts.cs:102 in Assert.Equal[T])", Classifier.FromMessageOnly(message.Replace(test, "/elsewhere/CounterTests.cs", StringComparison.Ordinal)).Sentence, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(test);
        }
    }

    [Fact]
    public void APackagesOwnLockNoTaskWaitedForIsLeftOutOfTheTimelineButAContendedOneIsNot()
    {
        var log = new LogBuilder();
        var (inner, contended, user) = (log.Monitor("callSite#1"), log.Monitor("lock@Pool.Rent"), log.Lock("Store._gate"));
        var (t1, t2) = (log.Task("A"), log.Task("B"));

        // Line 0: code without source lines, as a package built without a PDB.
        log.Acquire(t1, inner, 0).Release(t1, inner, 0)
            .Acquire(t1, contended, 0).BlockedOn(t2, contended, 0).Release(t1, contended, 0).Acquire(t2, contended, 0).Release(t2, contended, 0)
            .Acquire(t1, user, 12).Release(t1, user, 13);
        var view = new LogView(log.Build());

        Assert.Equal([inner], view.QuietInternals);
        Assert.DoesNotContain(view.TimelineEvents(), e => e.Resource == inner);
        Assert.Contains(view.TimelineEvents(), e => e.Resource == contended);
        Assert.Contains(view.TimelineEvents(), e => e.Resource == user);
    }

    /// <summary>Coyote 1.7.11's own messages, as it prints them, still read for the failures it finds itself.</summary>
    [Theory]
    [InlineData(CoyoteDeadlock, FailureKind.Deadlock)]
    [InlineData("Deadlock detected. Op(4) is paused on a dependency, but no other controlled operations are enabled.", FailureKind.Deadlock)]
    [InlineData("Potential deadlock or hang detected. The periodic deadlock detection monitor was used, so Coyote cannot accurately determine if this is a deadlock, hang or false positive.", FailureKind.Deadlock)]
    [InlineData("Scheduling steps bound of 10000 reached.", FailureKind.Hang)]
    [InlineData("Unhandled exception. System.InvalidOperationException: boom", FailureKind.UnhandledException)]
    [InlineData("Both tasks should have run.", FailureKind.InvariantViolation)]
    [InlineData("Executing thread '5' is not controlled and is invoking the SemaphoreSlim.Wait synchronization method, which can cause deadlocks during testing.", FailureKind.Uncontrolled)]
    [InlineData("Accessing 'SemaphoreSlim(98365c27)' that was created in a previous test iteration with runtime id 'dc197f3b':", FailureKind.Uncontrolled)]
    public void CoyotesOwnMessagesArePinned(string message, FailureKind kind)
    {
        Assert.Equal(kind, Classifier.FromMessageOnly(message).Kind);
    }
}

/// <summary>Builds an iteration's log by hand: tasks, resources and events in order, every site at Code.cs.</summary>
internal sealed class LogBuilder
{
    private int? calledAt;

    private readonly List<TaskInfo> tasks = [new(1, "Tests.TheTest", null, 0, false)];
    private readonly List<ResourceInfo> resources = [];
    private readonly List<RecordedEvent> events = [];
    private readonly List<UncontrolledCall> uncontrolled = [];
    private DetectedFailure? detected;

    /// <summary>A task the test started with Task.Run: a flow of control of its own.</summary>
    public int Task(string entry)
    {
        this.tasks.Add(new TaskInfo(this.tasks.Count + 1, entry, new SourceSite("Code.cs", 2, "Tests.TheTest"), 1, false));
        this.Add(EventKind.TaskStart, this.tasks.Count, 0, 0);
        return this.tasks.Count;
    }

    public int Promise(string name)
    {
        this.tasks.Add(new TaskInfo(this.tasks.Count + 1, name, null, 1, false) { Promise = true });
        this.Add(EventKind.TaskStart, this.tasks.Count, 0, 0);
        return this.tasks.Count;
    }

    public int Lock(string name) => this.Resource(ResourceKind.Semaphore, name, 1, 1, null);

    public int Monitor(string name) => this.Resource(ResourceKind.Monitor, name, 1, 1, null);

    public int Semaphore(string name, int permits, IReadOnlyList<string>? releasers = null) => this.Resource(ResourceKind.Semaphore, name, permits, int.MaxValue, releasers);

    public LogBuilder Acquire(int task, int resource, int line) => this.Add(EventKind.Acquire, task, resource, line, this.Free(resource) - 1);

    public LogBuilder Release(int task, int resource, int line) => this.Add(EventKind.Release, task, resource, line, this.Free(resource) + 1);

    public LogBuilder OverRelease(int task, int resource, int line) => this.Add(EventKind.OverRelease, task, resource, line, this.Free(resource));

    public LogBuilder Wait(int task, int resource, int line) => this.Add(EventKind.Wait, task, resource, line, this.Free(resource));

    /// <summary>A wait that has to wait: no permit free.</summary>
    public LogBuilder BlockedOn(int task, int resource, int line) => this.Add(EventKind.Wait, task, resource, line, 0);

    public LogBuilder WaitForPulse(int task, int monitor, int line) => this.Add(EventKind.Release, task, monitor, line, 1).Add(EventKind.WaitForPulse, task, monitor, line, 1);

    public LogBuilder Pulse(int task, int monitor, int line, params int[] woken) => this.Add(EventKind.Pulse, task, monitor, line, -1, woken);

    public LogBuilder Await(int task, int line, params int[] targets) => this.Add(EventKind.Await, task, 0, line, -1, targets);

    public LogBuilder End(int task) => this.Add(EventKind.TaskEnd, task, 0, 0);

    /// <summary>Ends <paramref name="task"/> by an exception of type <paramref name="exception"/> thrown on line <paramref name="line"/>.</summary>
    public LogBuilder EndedBy(int task, string exception, int line)
    {
        this.tasks[task - 1] = this.tasks[task - 1] with { EndedBy = new TaskFault(exception, new SourceSite("Code.cs", line, "Tests.Code")) };
        return this.End(task);
    }

    /// <summary>A call into code Coyote does not control (a probe notes these).</summary>
    public LogBuilder Uncontrolled(int task, string api, int line)
    {
        this.uncontrolled.Add(new UncontrolledCall(api, new SourceSite("Code.cs", line, "Tests.TheTest"), task));
        return this;
    }

    public void Detect(DetectedFailure failure) => this.detected = failure;

    public IterationLog Build() => IterationLog.Create("Tests.TheTest", this.tasks, this.resources, this.events, null, this.detected, this.uncontrolled);

    private int Resource(ResourceKind kind, string name, int initial, int max, IReadOnlyList<string>? releasers)
    {
        var id = this.resources.Count + 1;
        this.resources.Add(new ResourceInfo(id, kind, name, new SourceSite("Code.cs", 1, "Tests.TheTest"), initial, max) { Releasers = releasers });
        this.Add(EventKind.Create, 1, id, 1, initial);
        if (releasers is not null)
        {
            this.Add(EventKind.Signaling, 1, id, 1);
        }

        return id;
    }

    private int Free(int resource)
    {
        var last = this.events.LastOrDefault(e => e.Resource == resource && e.Count >= 0);
        return last?.Count ?? this.resources[resource - 1].Initial;
    }

    /// <summary>Records the next event inside an async helper (<c>Tests.Code.LockAsync</c>) its caller awaited at once on line <paramref name="calledAt"/>.</summary>
    public LogBuilder InHelperCalledAt(int calledAt)
    {
        this.calledAt = calledAt;
        return this;
    }

    private LogBuilder Add(EventKind kind, int task, int resource, int line, int count = -1, IReadOnlyList<int>? targets = null)
    {
        var site = line <= 0 ? null
            : this.calledAt is { } at ? new SourceSite("Code.cs", line, "Tests.Code.LockAsync") { CalledFrom = new SourceSite("Code.cs", at, "Tests.Code.Transfer") }
            : new SourceSite("Code.cs", line, "Tests.Code");
        this.calledAt = null;
        this.events.Add(new RecordedEvent(this.events.Count + 1, kind, task, resource, site, count, 1, targets));
        return this;
    }
}
