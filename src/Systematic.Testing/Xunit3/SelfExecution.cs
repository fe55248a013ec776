using Xunit.Sdk;
using Xunit.v3;

namespace Systematic;

// What differs between xunit v3 3.x and 4.x: how a self-executing test case and its runner are called. This is the
// 3.x side (compiled into the package's lib/); Xunit4/ holds the 4.x side of the same types.

/// <summary>The xunit 3.x entry of a <see cref="SystematicTestCase"/>.</summary>
internal sealed partial class SystematicTestCase
{
    public async ValueTask<RunSummary> Run(ExplicitOption explicitOption, IMessageBus messageBus, object?[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    {
        var tests = await aggregator.RunAsync(this.CreateTests, []).ConfigureAwait(false);
        if (aggregator.ToException() is { } exception)
        {
            return XunitRunnerHelper.FailTestCases(messageBus, cancellationTokenSource, [this], exception, sendTestCaseMessages: false);
        }

        return await SystematicTestCaseRunner.Instance.Run(this, tests, messageBus, aggregator, cancellationTokenSource, this.TestCaseDisplayName, this.SkipReason, explicitOption, constructorArguments).ConfigureAwait(false);
    }
}
/// <summary>Runs a <see cref="SystematicTestCase"/>'s test through <see cref="SystematicTestRunner"/>.</summary>
internal sealed class SystematicTestCaseRunner : XunitTestCaseRunner
{
    public static new SystematicTestCaseRunner Instance { get; } = new();

    protected override ValueTask<RunSummary> RunTest(XunitTestCaseRunnerContext ctxt, IXunitTest test) =>
        SystematicTestRunner.Instance.Run(test, ctxt.MessageBus, ctxt.ConstructorArguments, ctxt.ExplicitOption, ctxt.Aggregator.Clone(), ctxt.CancellationTokenSource, ctxt.BeforeAfterTestAttributes);
}

