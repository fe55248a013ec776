namespace Systematic.Harness;

/// <summary>Explores one test (or one part of a split test) and returns its outcome; a session runs every test through one.</summary>
internal interface ITestExecutor : IDisposable
{
    /// <summary>Explores <paramref name="test"/> as <paramref name="options"/> say; failure folders go under <paramref name="runDir"/>.</summary>
    TestOutcome Run(TestCase test, ExplorationOptions options, string runDir, CancellationToken cancellation);
}

/// <summary>Explores in this process: fastest, but a test that hangs or crashes takes the session with it.</summary>
internal sealed class InProcessExecutor(Action<ExplorationProgress>? progress, string replayTool) : ITestExecutor
{
    public TestOutcome Run(TestCase test, ExplorationOptions options, string runDir, CancellationToken cancellation) =>
        new TestRunner(options, progress, replayTool).Run(test, runDir, cancellation);

    public void Dispose()
    {
    }
}

/// <summary>Explores in long-lived worker processes (<see cref="WorkerPool"/>): one that crashes, hangs or exceeds its budget is replaced, and its test reported.</summary>
internal sealed class WorkerExecutor(WorkerPool pool, Action<ExplorationProgress>? progress, string replayTool) : ITestExecutor
{
    public TestOutcome Run(TestCase test, ExplorationOptions options, string runDir, CancellationToken cancellation) =>
        pool.Run(test, options, runDir, replayTool, progress, cancellation);

    public void Dispose() => pool.Dispose();
}
