using System.Reflection;
using Xunit;
using Xunit.Sdk;
using Xunit.v3;

namespace Systematic;

/// <summary>A <see cref="SystematicFactAttribute"/> test case: run by xunit like any fact, but its method is explored.</summary>
internal sealed class SystematicTestCase : XunitTestCase, ISelfExecutingXunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SystematicTestCase()
    {
    }

    public SystematicTestCase(
        IXunitTestMethod testMethod,
        string testCaseDisplayName,
        string uniqueID,
        bool @explicit,
        Type[]? skipExceptions,
        string? skipReason,
        Type? skipType,
        string? skipUnless,
        string? skipWhen,
        Dictionary<string, HashSet<string>>? traits,
        string? sourceFilePath,
        int? sourceLineNumber,
        int? timeout)
        : base(testMethod, testCaseDisplayName, uniqueID, @explicit, skipExceptions, skipReason, skipType, skipUnless, skipWhen, traits, null, sourceFilePath, sourceLineNumber, timeout)
    {
    }

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

/// <summary>
/// Runs a <see cref="SystematicFactAttribute"/> test: xunit's before/after attributes, output and timing as for any
/// test, but instead of one call, an exploration (each iteration on a fresh instance of the class, made by the
/// exploration itself, so xunit makes none).
/// </summary>
internal sealed class SystematicTestRunner : XunitTestRunner
{
    public static new SystematicTestRunner Instance { get; } = new();

    protected override bool IsTestClassCreatable(XunitTestRunnerContext ctxt) => false;

    protected override object? InvokeTestMethod(XunitTestRunnerContext ctxt, object? testClassInstance)
    {
        var method = ctxt.TestMethod;
        var fact = method.GetCustomAttribute<SystematicFactAttribute>() ?? new SystematicFactAttribute();
        var output = TestContext.Current.TestOutputHelper;
        var subject = new Subject($"{method.DeclaringType!.FullName}.{method.Name}", method, null);
        return Exploration.RunAsync(subject, fact.Options, line => output?.WriteLine(line), ctxt.CancellationTokenSource.Token);
    }
}
