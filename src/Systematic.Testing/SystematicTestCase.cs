using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Sdk;
using Xunit.v3;

namespace Systematic;

/// <summary>A <see cref="SystematicFactAttribute"/> test case: run by xunit like any fact, but its method is explored.</summary>
internal sealed partial class SystematicTestCase : XunitTestCase, ISelfExecutingXunitTestCase
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

    protected override async ValueTask<TimeSpan> InvokeTest(XunitTestRunnerContext ctxt, object? testClassInstance)
    {
        var clock = Stopwatch.StartNew();
        var method = ctxt.Test.TestMethod.Method;
        var fact = method.GetCustomAttribute<SystematicFactAttribute>() ?? new SystematicFactAttribute();
        var output = TestContext.Current.TestOutputHelper;
        var subject = new Subject($"{method.DeclaringType!.FullName}.{method.Name}", method, null);
        try
        {
            await Exploration.RunAsync(subject, fact.Options, line => output?.WriteLine(line), ctxt.CancellationTokenSource.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ctxt.Aggregator.Add(e);
        }

        return clock.Elapsed;
    }
}
