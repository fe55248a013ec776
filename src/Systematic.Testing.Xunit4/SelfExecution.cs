using Xunit.Sdk;
using Xunit.v3;

namespace Systematic;

// The xunit v3 4.x side of what differs from 3.x (see ../Systematic.Testing/Xunit3/SelfExecution.cs): a
// self-executing test case is called with the parallel mode, the scheduler and the method's fixtures.

/// <summary>The xunit 4.x entry of a <see cref="SystematicTestCase"/>.</summary>
internal sealed partial class SystematicTestCase
{
    public async ValueTask<RunSummary> Run(ExplicitOption explicitOption, IMessageBus messageBus, object?[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource, ParallelMode parallelMode, ExecutionScheduler scheduler, FixtureMappingManager methodFixtureMappings)
    {
        var tests = await aggregator.RunAsync(this.CreateTests, []).ConfigureAwait(false);
        if (aggregator.ToException() is { } exception)
        {
            return XunitRunnerHelper.FailTestCases(messageBus, cancellationTokenSource, [this], exception, sendTestCaseMessages: false);
        }

        return await SystematicTestCaseRunner.Instance.Run(this, tests, messageBus, aggregator, cancellationTokenSource, parallelMode, scheduler, this.TestCaseDisplayName, this.SkipReason, explicitOption, constructorArguments, methodFixtureMappings).ConfigureAwait(false);
    }
}

/// <summary>Runs a <see cref="SystematicTestCase"/>'s test through <see cref="SystematicTestRunner"/>.</summary>
internal sealed class SystematicTestCaseRunner : XunitTestCaseRunner
{
    public static new SystematicTestCaseRunner Instance { get; } = new();

    protected override ValueTask<RunSummary> RunTest(XunitTestCaseRunnerContext ctxt, IXunitTest test) =>
        SystematicTestRunner.Instance.Run(test, ctxt.MessageBus, ctxt.ConstructorArguments, ctxt.ExplicitOption, ctxt.Aggregator.Clone(), ctxt.CancellationTokenSource, ctxt.ParallelMode, ctxt.Scheduler, ctxt.BeforeAfterTestAttributes, ctxt.CaseFixtureMappings);
}
