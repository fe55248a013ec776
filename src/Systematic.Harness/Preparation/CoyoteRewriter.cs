using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Coyote;

namespace Systematic.Harness.Preparation;

/// <summary>
/// Runs Coyote 1.7.11's own rewriter in this process, as <c>coyote rewrite rewrite.coyote.json</c> would: the tool needs
/// no Coyote command-line tool, tool manifest or network. Coyote keeps its rewriting engine internal
/// (<c>RewritingEngine.Run</c>, <c>RewritingOptions.ParseFromJSON</c>), so this is the one thin adapter that reaches it
/// by reflection; <c>CoyoteRewriterTests</c> pins it to this version.
/// </summary>
internal static class CoyoteRewriter
{
    private static readonly Lazy<Entry> Engine = new(Bind);

    /// <summary>Gets whether the rewriting engine of the referenced Coyote could be bound (false means a Coyote version this adapter does not know).</summary>
    public static bool IsAvailable => TryBind(out _);

    /// <summary>
    /// Rewrites, in place, the assemblies a <c>rewrite.coyote.json</c> at <paramref name="configurationPath"/> lists
    /// (paths in it are relative to it). Throws <see cref="RewriteException"/> with Coyote's own message when it fails.
    /// </summary>
    public static void Rewrite(string configurationPath)
    {
        var entry = Engine.Value;
        var configuration = Configuration.Create().WithTelemetryEnabled(false).WithVerbosityEnabled(Microsoft.Coyote.Logging.VerbosityLevel.None);
        try
        {
            var options = entry.Parse.Invoke(null, [configurationPath]);
            var logWriter = entry.LogWriter.Invoke([configuration, false]);
            var profiler = entry.Profiler.Invoke([]);
            lock (Engine)
            {
                // Coyote's rewriter keeps no state between runs, but it is not written for concurrent use.
                entry.Run.Invoke(null, [options, configuration, logWriter, profiler]);
            }
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            var cause = inner is AggregateException aggregate ? aggregate.Flatten().InnerException ?? inner : inner;
            if (cause is OutOfMemoryException)
            {
                ExceptionDispatchInfo.Capture(cause).Throw();
            }

            throw new RewriteException(FirstLine(cause.Message), cause);
        }
    }

    private static string FirstLine(string message) =>
        message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "unknown error";

    private static bool TryBind(out Entry? entry)
    {
        try
        {
            entry = Engine.Value;
            return true;
        }
        catch (InvalidOperationException)
        {
            entry = null;
            return false;
        }
    }

    private static Entry Bind()
    {
        const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
        var test = typeof(Microsoft.Coyote.SystematicTesting.TestingEngine).Assembly;
        var core = typeof(Configuration).Assembly;
        var engine = test.GetType("Microsoft.Coyote.Rewriting.RewritingEngine");
        var options = test.GetType("Microsoft.Coyote.Rewriting.RewritingOptions");
        var logWriter = core.GetType("Microsoft.Coyote.Logging.LogWriter");
        var profiler = core.GetType("Microsoft.Coyote.Profiler") ?? core.GetType("Microsoft.Coyote.Runtime.Profiler");
        var parse = options?.GetMethod("ParseFromJSON", Any, [typeof(string)]);
        var writerCtor = logWriter?.GetConstructor(Any, [typeof(Configuration), typeof(bool)]);
        var profilerCtor = profiler?.GetConstructor(Any, Type.EmptyTypes);
        var run = engine?.GetMethods(Any).FirstOrDefault(m => m.Name == "Run" && m.IsStatic && m.GetParameters().Length == 4);
        if (parse is null || writerCtor is null || profilerCtor is null || run is null)
        {
            throw new InvalidOperationException(
                $"Coyote {core.GetName().Version} does not have the rewriting entry points Systematic uses (built for 1.7.11).");
        }

        return new Entry(parse, writerCtor, profilerCtor, run);
    }

    private sealed record Entry(MethodInfo Parse, ConstructorInfo LogWriter, ConstructorInfo Profiler, MethodInfo Run);
}

/// <summary>Coyote's rewriter refused or failed on an assembly set; the message is Coyote's own first line.</summary>
internal sealed class RewriteException(string message, Exception inner) : Exception(message, inner);
