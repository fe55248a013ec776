using System.Reflection;
using Mono.Cecil;
using Systematic.Recording;

namespace Systematic.Instrumentation;

/// <summary>What an instrumentation pass did.</summary>
/// <param name="ProbedCalls">Calls routed through recording probes.</param>
/// <param name="AsyncMethods">Async methods that now record their start and end.</param>
/// <param name="Tests">Coyote tests that now start a recording and check the end-of-test invariants.</param>
internal sealed record InstrumentationResult(int ProbedCalls, int AsyncMethods, int Tests);

/// <summary>
/// The recording pass over an assembly that <c>coyote rewrite</c> already rewrote: every call to Coyote's controlled
/// <c>SemaphoreSlim</c>, <c>Monitor</c> and <c>Task</c> entry points goes through a probe that records it with its
/// source site (from the PDB), async methods record their start and end, and each <c>[Test]</c> starts a recording
/// and checks its invariants when it ends. Works on a copy; the input is never modified.
/// </summary>
internal static class Instrumenter
{
    /// <summary>The assembly metadata key that marks an instrumented assembly.</summary>
    public const string Marker = "Systematic.Instrumented";

    /// <summary>The version of this pass, recorded in the marker.</summary>
    public const string Version = "4";

    /// <summary>Coyote's test attribute: what <c>coyote test -m</c> and Systematic run.</summary>
    public const string CoyoteTestAttribute = "Microsoft.Coyote.SystematicTesting.TestAttribute";

    /// <summary>Systematic.Testing's xunit attribute: such a test is given Coyote's <c>[Test]</c> when instrumented.</summary>
    public const string SystematicFactAttribute = "Systematic.SystematicFactAttribute";

    private const string CoyoteSignature = "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute";

    /// <summary>Returns whether <c>coyote rewrite</c> has rewritten the assembly.</summary>
    public static bool IsCoyoteRewritten(string path)
    {
        using var module = ModuleDefinition.ReadModule(path, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
        return IsCoyoteRewritten(module);
    }

    /// <summary>Returns whether <c>coyote rewrite</c> has rewritten the module.</summary>
    public static bool IsCoyoteRewritten(ModuleDefinition module) => module.Assembly.CustomAttributes.Any(a => a.AttributeType.FullName == CoyoteSignature);

    /// <summary>Instruments <paramref name="input"/> (already rewritten by Coyote) into <paramref name="output"/>, with its PDB.</summary>
    /// <param name="input">The assembly, rewritten by Coyote.</param>
    /// <param name="output">Where to write the instrumented assembly.</param>
    /// <param name="instrumented">The names of the other assemblies instrumented with it (an async method of theirs awaited at once runs in its caller's task), or null for none.</param>
    /// <param name="primitives">The synchronization primitives to record as resources (default: the built-in table).</param>
    public static InstrumentationResult Instrument(string input, string output, IReadOnlySet<string>? instrumented = null, PrimitiveTable? primitives = null)
    {
        var inputDirectory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(input))!;
        var recordingPath = typeof(Recorder).Assembly.Location;
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(inputDirectory);
        resolver.AddSearchDirectory(System.IO.Path.GetDirectoryName(recordingPath)!);
        var (read, hasSymbols) = ModuleReading.Read(input, new ReaderParameters
        {
            AssemblyResolver = resolver,
            ReadingMode = ReadingMode.Immediate,
            InMemory = true,
        });
        using var module = read;
        if (!IsCoyoteRewritten(module))
        {
            throw new InvalidOperationException($"'{input}' has not been rewritten by Coyote; run `coyote rewrite` on it first.");
        }

        if (IsInstrumented(module))
        {
            throw new InvalidOperationException($"'{input}' is already instrumented by Systematic.");
        }

        using var recording = ModuleDefinition.ReadModule(recordingPath, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
        var pass = new InstrumentationPass(module, ProbeMap.Load(recording), instrumented ?? new HashSet<string>(), primitives ?? PrimitiveTable.Default);
        pass.Run();

        var marker = module.ImportReference(typeof(AssemblyMetadataAttribute).GetConstructor([typeof(string), typeof(string)]));
        var attribute = new CustomAttribute(marker);
        attribute.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, Marker));
        attribute.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, Version));
        module.Assembly.CustomAttributes.Add(attribute);

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(output))!);
        module.Write(output, new WriterParameters { WriteSymbols = hasSymbols });
        return new InstrumentationResult(pass.ProbedCalls, pass.AsyncMethods, pass.Tests);
    }

    /// <summary>
    /// Returns whether the assembly file at <paramref name="path"/> carries the mark this pass leaves, read from its
    /// metadata without loading it; false for a file that is missing or not an assembly.
    /// </summary>
    public static bool IsInstrumented(string path) => InstrumentationMark.IsOn(path);

    /// <summary>Returns whether this pass has already instrumented the module.</summary>
    public static bool IsInstrumented(ModuleDefinition module) =>
        module.Assembly.CustomAttributes.Any(a =>
            a.AttributeType.FullName == typeof(AssemblyMetadataAttribute).FullName &&
            a.ConstructorArguments.Count == 2 && Equals(a.ConstructorArguments[0].Value, Marker));
}
