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
        var subject = new Subject($"{method.DeclaringType!.FullName}.{method.Name}", method, null) { Instance = Instances(method, ctxt.ConstructorArguments, output) };
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

    /// <summary>
    /// How each iteration makes its instance when the class has no public parameterless constructor: its one public
    /// constructor, given what xunit resolved for it (class and collection fixtures) and the test's output helper; null
    /// when it has such a constructor (as `coyote replay` wants) or one that cannot be satisfied.
    /// </summary>
    private static Func<object>? Instances(MethodInfo method, object?[] resolved, ITestOutputHelper? output)
    {
        var type = method.DeclaringType!;
        if (method.IsStatic || type.GetConstructor(Type.EmptyTypes) is not null || type.GetConstructors() is not [var constructor])
        {
            return null;
        }

        var parameters = constructor.GetParameters();
        var arguments = new object?[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i].ParameterType;
            arguments[i] = parameter == typeof(ITestOutputHelper) ? output
                : i < resolved.Length && resolved[i] is { } value && parameter.IsInstanceOfType(value) ? value
                : null;
            if (arguments[i] is null)
            {
                return null;
            }
        }

        return () => constructor.Invoke(arguments);
    }
}
