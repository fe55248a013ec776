using System.Reflection;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;
using Systematic.Recording;

namespace Systematic.Instrumentation;

/// <summary>What an instrumentation pass did.</summary>
/// <param name="ProbedCalls">Calls routed through recording probes.</param>
/// <param name="AsyncMethods">Async methods that now record their start and end.</param>
/// <param name="Tests">Coyote tests that now start a recording and check the end-of-test invariants.</param>
public sealed record InstrumentationResult(int ProbedCalls, int AsyncMethods, int Tests);

/// <summary>
/// The recording pass over an assembly that <c>coyote rewrite</c> already rewrote: every call to Coyote's controlled
/// <c>SemaphoreSlim</c>, <c>Monitor</c> and <c>Task</c> entry points goes through a probe that records it with its
/// source site (from the PDB), async methods record their start and end, and each <c>[Test]</c> starts a recording
/// and checks its invariants when it ends. Works on a copy; the input is never modified.
/// </summary>
public static class Instrumenter
{
    /// <summary>The assembly metadata key that marks an instrumented assembly.</summary>
    public const string Marker = "Systematic.Instrumented";

    /// <summary>The version of this pass, recorded in the marker.</summary>
    public const string Version = "1";

    private const string CoyoteSignature = "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute";
    private const string TestAttribute = "Microsoft.Coyote.SystematicTesting.TestAttribute";

    /// <summary>Systematic.Testing's xunit attribute: such a test is a Coyote test too.</summary>
    private const string SystematicFactAttribute = "Systematic.SystematicFactAttribute";
    private const string AsyncStateMachine = "System.Runtime.CompilerServices.AsyncStateMachineAttribute";

    /// <summary>Returns whether <c>coyote rewrite</c> has rewritten the assembly.</summary>
    public static bool IsCoyoteRewritten(string path)
    {
        using var module = ModuleDefinition.ReadModule(path, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
        return IsCoyoteRewritten(module);
    }

    /// <summary>Returns whether <c>coyote rewrite</c> has rewritten the module.</summary>
    public static bool IsCoyoteRewritten(ModuleDefinition module) => module.Assembly.CustomAttributes.Any(a => a.AttributeType.FullName == CoyoteSignature);

    /// <summary>Returns whether this pass has already instrumented the assembly.</summary>
    public static bool IsInstrumented(string path)
    {
        using var module = ModuleDefinition.ReadModule(path, new ReaderParameters { ReadingMode = ReadingMode.Deferred });
        return IsInstrumented(module);
    }

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
        var pass = new Pass(module, ProbeMap.Load(recording), instrumented ?? new HashSet<string>(), primitives ?? PrimitiveTable.Default);
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

    /// <summary>Returns whether this pass has already instrumented the module.</summary>
    public static bool IsInstrumented(ModuleDefinition module) =>
        module.Assembly.CustomAttributes.Any(a =>
            a.AttributeType.FullName == typeof(AssemblyMetadataAttribute).FullName &&
            a.ConstructorArguments.Count == 2 && Equals(a.ConstructorArguments[0].Value, Marker));

    private sealed class Pass(ModuleDefinition module, ProbeMap probes, IReadOnlySet<string> instrumented, PrimitiveTable primitives)
    {
        /// <summary>
        /// Gives every <c>[SystematicFact]</c> method (Systematic.Testing's xunit attribute) Coyote's <c>[Test]</c> as well:
        /// stock <c>coyote test</c> and <c>coyote replay -m</c>, and <c>systematic test</c>, then find it, and it is
        /// instrumented as a test.
        /// </summary>
        private void MarkSystematicFacts()
        {
            var facts = module.GetTypes().SelectMany(t => t.Methods)
                .Where(m => m.CustomAttributes.Any(a => a.AttributeType.FullName == SystematicFactAttribute) && !m.CustomAttributes.Any(a => a.AttributeType.FullName == TestAttribute))
                .ToList();
            if (facts.Count == 0)
            {
                return;
            }

            var coyoteTest = module.AssemblyResolver.Resolve(new AssemblyNameReference("Microsoft.Coyote.Test", null))
                ?? throw new InvalidOperationException("Microsoft.Coyote.Test.dll is not next to the tests: reference the Systematic.Testing package (it brings Coyote).");
            var attribute = coyoteTest.MainModule.GetType(TestAttribute)
                ?? throw new InvalidOperationException($"{TestAttribute} is not in {coyoteTest.FullName}.");
            var constructor = module.ImportReference(attribute.Methods.Single(m => m.IsConstructor && !m.IsStatic && !m.HasParameters));
            foreach (var fact in facts)
            {
                fact.CustomAttributes.Add(new CustomAttribute(constructor));
            }
        }

        private readonly HashSet<MethodDefinition> completionHooks = [];
        private readonly HashSet<MethodDefinition> testStateMachines = [];

        public int ProbedCalls { get; private set; }

        public int AsyncMethods { get; private set; }

        public int Tests { get; private set; }

        private IReadOnlyDictionary<string, IReadOnlyList<string>> signals = new Dictionary<string, IReadOnlyList<string>>();

        public void Run()
        {
            this.MarkSystematicFacts();
            this.signals = SignalAnalysis.Find(module);
            var methods = module.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody).ToList();

            // First decide which state machines get completion hooks, then edit every body once.
            foreach (var method in methods)
            {
                var isTest = method.CustomAttributes.Any(a => a.AttributeType.FullName == TestAttribute);
                if (StateMachineOf(method) is { } moveNext && ReturnsTask(method))
                {
                    this.completionHooks.Add(moveNext);
                    if (isTest)
                    {
                        this.testStateMachines.Add(moveNext);
                    }
                }
            }

            foreach (var method in methods)
            {
                this.Edit(method);
            }
        }

        private static MethodDefinition? StateMachineOf(MethodDefinition method)
        {
            var attribute = method.CustomAttributes.FirstOrDefault(a => a.AttributeType.FullName == AsyncStateMachine);
            return attribute?.ConstructorArguments[0].Value is TypeReference type
                ? type.Resolve()?.Methods.FirstOrDefault(m => m.Name == "MoveNext")
                : null;
        }

        /// <summary>Whether the method returns a Task, a ValueTask or their generic forms: what an async method's caller awaits.</summary>
        private static bool ReturnsTask(MethodReference method) =>
            IlEditing.ElementName(method.ReturnType) is "System.Threading.Tasks.Task" or "System.Threading.Tasks.Task`1" or "System.Threading.Tasks.ValueTask" or "System.Threading.Tasks.ValueTask`1";

        private static bool ReturnsValueTask(MethodReference method) =>
            IlEditing.ElementName(method.ReturnType) is "System.Threading.Tasks.ValueTask" or "System.Threading.Tasks.ValueTask`1";

        private void Edit(MethodDefinition method)
        {
            if (primitives.Owning(method.DeclaringType) is { } primitive)
            {
                // Inside a known primitive: the primitive is the resource, its own monitors and tasks are not recorded.
                this.EditPrimitive(method, primitive);
                return;
            }

            var body = method.Body;
            body.SimplifyMacros();
            var il = body.GetILProcessor();
            var original = body.Instructions.ToList();
            var sites = original.Where(i => i.OpCode.FlowControl == FlowControl.Call).ToDictionary(i => i, i => Site(method, i));

            var isTest = method.CustomAttributes.Any(a => a.AttributeType.FullName == TestAttribute);
            var isAsyncStub = !isTest && StateMachineOf(method) is not null && ReturnsTask(method);
            var isMoveNext = this.completionHooks.Contains(method);
            var isTestMoveNext = this.testStateMachines.Contains(method);

            foreach (var instruction in original)
            {
                if (instruction.OpCode.FlowControl != FlowControl.Call || instruction.Operand is not MethodReference called)
                {
                    continue;
                }

                if (instruction.OpCode == OpCodes.Newobj && primitives.Of(called.DeclaringType) is { } created)
                {
                    // A primitive made here: register it, named by where it is stored.
                    this.AfterCreation(il, method, instruction, probes.Primitives.Created, il.Create(OpCodes.Ldc_I4, created.Permits), il.Create(OpCodes.Ldstr, sites[instruction]));
                    continue;
                }

                if (instruction.OpCode == OpCodes.Newobj && IlEditing.ElementName(called.DeclaringType) is "System.Threading.Tasks.TaskCompletionSource" or "System.Threading.Tasks.TaskCompletionSource`1")
                {
                    // Named for where it was made, should a task ever wait for it for ever.
                    this.AfterCreation(il, method, instruction, probes.CompletionSourceCreated, il.Create(OpCodes.Ldstr, sites[instruction]));
                    continue;
                }

                if (instruction.OpCode == OpCodes.Newobj && ProbeMap.IsProbedType(called.DeclaringType) && probes.FindConstructor(called) is { } factory)
                {
                    // A constructor Coyote leaves uncontrolled (a source with a timeout): its probe makes the object.
                    var call = IlEditing.InsertBefore(il, instruction, il.Create(OpCodes.Ldstr, sites[instruction]));
                    call.OpCode = OpCodes.Call;
                    call.Operand = module.ImportReference(factory.Method);
                    this.ProbedCalls++;
                    continue;
                }

                if (instruction.OpCode == OpCodes.Newobj && called.DeclaringType.FullName is "System.Object" or "System.Threading.Lock")
                {
                    // A possible lock object: remember where it was made, so it is known by that site and order.
                    this.AfterCreation(il, method, instruction, probes.LockCreated, il.Create(OpCodes.Ldstr, sites[instruction]));
                    continue;
                }

                if (Doctor.Match(called) is { } uncontrolled)
                {
                    // Noted when it runs: a failure after it may be a false alarm, and its trace is not promised to replay.
                    var prefixed = instruction.Previous is { OpCode.OpCodeType: OpCodeType.Prefix } prefix ? prefix : instruction;
                    IlEditing.InsertBefore(il, prefixed, il.Create(OpCodes.Ldstr, uncontrolled.Api), il.Create(OpCodes.Ldstr, sites[instruction]), il.Create(OpCodes.Call, module.ImportReference(probes.UncontrolledCalled)));
                    continue;
                }

                var awaited = IsAwaitedAsyncCall(instruction, called);
                if (IsHiddenWrapper(called) || primitives.Owning(called.DeclaringType) is not null || IsDispose(called))
                {
                    // Events inside a [StackTraceHidden] wrapper are reported at this call site.
                    var previous = new VariableDefinition(module.TypeSystem.String);
                    body.Variables.Add(previous);

                    // A prefix (constrained. on a struct's Dispose) must stay right before its call: insert before both.
                    var prefixed = instruction.Previous is { OpCode.OpCodeType: OpCodeType.Prefix } prefix ? prefix : null;
                    var moved = IlEditing.InsertBefore(
                        il,
                        prefixed ?? instruction,
                        il.Create(OpCodes.Ldstr, sites[instruction]),
                        il.Create(OpCodes.Call, module.ImportReference(probes.Async.EnterCallerSite)),
                        il.Create(OpCodes.Stloc, previous));
                    var call = prefixed is null ? moved : instruction;
                    var restore = il.Create(OpCodes.Ldloc, previous);
                    il.InsertAfter(call, restore);
                    var exit = il.Create(OpCodes.Call, module.ImportReference(probes.Async.ExitCallerSite));
                    il.InsertAfter(restore, exit);
                    if (awaited)
                    {
                        IlEditing.InsertBefore(il, moved, il.Create(OpCodes.Call, module.ImportReference(probes.Async.AwaitedCall)));
                        il.InsertAfter(exit, il.Create(OpCodes.Call, module.ImportReference(probes.Async.AwaitedCallReturned)));
                    }

                    if (prefixed is null && IsDispose(called) && primitives.ReleasedByDisposing is { } owners)
                    {
                        // A releaser some acquire of a declared primitive may have returned: disposing it gives the permit back.
                        IlEditing.InsertBefore(il, call, il.Create(OpCodes.Dup), il.Create(OpCodes.Ldstr, owners), il.Create(OpCodes.Ldstr, sites[instruction]), il.Create(OpCodes.Call, module.ImportReference(probes.Primitives.Disposing)));
                    }

                    continue;
                }

                if (isMoveNext && IsBuilderCompletion(called))
                {
                    var hooks = new List<Instruction>();
                    if (isTestMoveNext && called.Name == "SetResult")
                    {
                        hooks.Add(il.Create(OpCodes.Call, module.ImportReference(probes.Async.EndTest)));
                    }

                    hooks.Add(il.Create(OpCodes.Call, module.ImportReference(probes.Async.Completed)));
                    IlEditing.InsertBefore(il, instruction, [.. hooks]);
                    continue;
                }

                if (ProbeMap.IsProbedType(called.DeclaringType) && probes.Find(called) is { } probe)
                {
                    var inserted = new List<Instruction> { il.Create(OpCodes.Ldstr, sites[instruction]) };
                    if (probe.TakesHint)
                    {
                        var hint = NameHints.For(method, instruction, called);
                        inserted.Add(hint is null ? il.Create(OpCodes.Ldnull) : il.Create(OpCodes.Ldstr, hint));
                    }

                    var call = IlEditing.InsertBefore(il, instruction, [.. inserted]);
                    call.OpCode = OpCodes.Call;
                    call.Operand = this.Import(probe.Method, called);
                    this.ProbedCalls++;
                    if (called.Name == "Create" && call.Next?.OpCode.Code is Code.Stfld or Code.Stsfld && call.Next.Operand is FieldReference stored &&
                        this.signals.TryGetValue(SignalAnalysis.Key(stored), out var releasedBy))
                    {
                        // A signal by its call sites: say so, and who releases it, before any of it runs.
                        var dup = il.Create(OpCodes.Dup);
                        il.InsertAfter(call, dup);
                        var text = il.Create(OpCodes.Ldstr, string.Join(", ", releasedBy));
                        il.InsertAfter(dup, text);
                        il.InsertAfter(text, il.Create(OpCodes.Call, module.ImportReference(probes.SignalCreated)));
                    }

                    continue;
                }

                if (awaited)
                {
                    var call = IlEditing.InsertBefore(il, instruction, il.Create(OpCodes.Call, module.ImportReference(probes.Async.AwaitedCall)));
                    il.InsertAfter(call, il.Create(OpCodes.Call, module.ImportReference(probes.Async.AwaitedCallReturned)));
                }
            }

            if (isAsyncStub)
            {
                this.AsyncMethods++;
                var token = new VariableDefinition(module.TypeSystem.Int64);
                body.Variables.Add(token);
                foreach (var ret in original.Where(i => i.OpCode == OpCodes.Ret))
                {
                    IlEditing.InsertBefore(il, ret, il.Create(OpCodes.Dup), il.Create(OpCodes.Ldloc, token), il.Create(OpCodes.Call, this.ExitProbe(method)));
                }

                IlEditing.InsertBefore(
                    il,
                    body.Instructions[0],
                    il.Create(OpCodes.Ldstr, Naming.Method(method)),
                    il.Create(OpCodes.Call, module.ImportReference(probes.Async.Enter)),
                    il.Create(OpCodes.Stloc, token));
            }

            if (isTest)
            {
                this.Tests++;
                var isAsync = StateMachineOf(method) is not null;
                foreach (var ret in original.Where(i => i.OpCode == OpCodes.Ret))
                {
                    if (method.ReturnType.FullName == "System.Void")
                    {
                        IlEditing.InsertBefore(il, ret, il.Create(OpCodes.Call, module.ImportReference(probes.Async.EndTest)));
                    }
                    else if (!isAsync && method.ReturnType.FullName == "System.Threading.Tasks.Task")
                    {
                        IlEditing.InsertBefore(il, ret, il.Create(OpCodes.Call, module.ImportReference(probes.Async.EndTestAfter)));
                    }
                }

                IlEditing.InsertBefore(
                    il,
                    body.Instructions[0],
                    il.Create(OpCodes.Ldstr, Naming.TestName(method)),
                    il.Create(OpCodes.Call, module.ImportReference(probes.Async.BeginTest)));
            }

            body.OptimizeMacros();
        }

        /// <summary>
        /// Puts the primitive's probes into one of its methods: an acquire method records its wait on entry and what it
        /// returns on exit, a release method records the permits it gives back. Nothing else in a primitive is probed.
        /// </summary>
        private void EditPrimitive(MethodDefinition method, PrimitiveSpec primitive)
        {
            var isAcquire = primitive.Acquire.Contains(method.Name);

            // A release overload that forwards to another (Release() calling Release(1)) is not recorded twice.
            var isRelease = primitive.Release.Contains(method.Name) && !method.Body.Instructions.Any(i =>
                i.OpCode.FlowControl == FlowControl.Call && i.Operand is MethodReference other && other.Name == method.Name &&
                IlEditing.ElementName(other.DeclaringType) == IlEditing.ElementName(method.DeclaringType));
            if (method.IsStatic || method.DeclaringType.IsValueType || IlEditing.ElementName(method.DeclaringType) != primitive.Type || !(isAcquire || isRelease))
            {
                return;
            }

            var body = method.Body;
            body.SimplifyMacros();
            var il = body.GetILProcessor();
            var site = SourceSite.Format("", 0, Naming.Method(method));
            if (isRelease)
            {
                var first = method.Parameters.FirstOrDefault();
                var amount = first?.ParameterType.MetadataType is MetadataType.Int32 or MetadataType.Int64 or MetadataType.Int16 or MetadataType.UInt32
                    ? new[] { il.Create(OpCodes.Ldarg, first), il.Create(OpCodes.Conv_I8) }
                    : [il.Create(OpCodes.Ldc_I8, 1L)];
                IlEditing.InsertBefore(il, body.Instructions[0], [il.Create(OpCodes.Ldarg_0), .. amount, il.Create(OpCodes.Ldstr, site), il.Create(OpCodes.Call, module.ImportReference(probes.Primitives.Released))]);
            }
            else
            {
                var token = new VariableDefinition(module.TypeSystem.Int64);
                body.Variables.Add(token);
                var returnsValue = method.ReturnType.MetadataType != MetadataType.Void;
                MethodReference end = module.ImportReference(returnsValue ? probes.Primitives.EndAcquire : probes.Primitives.EndAcquireVoid);
                if (returnsValue)
                {
                    var instance = new GenericInstanceMethod(end);
                    instance.GenericArguments.Add(method.ReturnType);
                    end = instance;
                }

                foreach (var ret in body.Instructions.Where(i => i.OpCode == OpCodes.Ret).ToList())
                {
                    IlEditing.InsertBefore(il, ret, il.Create(OpCodes.Ldarg_0), il.Create(OpCodes.Ldloc, token), il.Create(OpCodes.Call, end));
                }

                IlEditing.InsertBefore(
                    il,
                    body.Instructions[0],
                    il.Create(OpCodes.Ldarg_0),
                    il.Create(OpCodes.Ldc_I4, primitive.Permits),
                    il.Create(OpCodes.Ldstr, site),
                    il.Create(OpCodes.Call, module.ImportReference(probes.Primitives.BeginAcquire)),
                    il.Create(OpCodes.Stloc, token));
            }

            this.ProbedCalls++;
            body.OptimizeMacros();
        }

        /// <summary>After a <c>newobj</c>: <c>dup</c>, then <paramref name="arguments"/> and the name hint, then a call to <paramref name="probe"/>.</summary>
        private void AfterCreation(ILProcessor il, MethodDefinition method, Instruction newobj, MethodDefinition probe, params Instruction[] arguments)
        {
            var hint = NameHints.StoredInto(method, newobj);
            var last = newobj;
            foreach (var added in (Instruction[])[il.Create(OpCodes.Dup), .. arguments, hint is null ? il.Create(OpCodes.Ldnull) : il.Create(OpCodes.Ldstr, hint), il.Create(OpCodes.Call, module.ImportReference(probe))])
            {
                il.InsertAfter(last, added);
                last = added;
            }

            this.ProbedCalls++;
        }

        /// <summary>A <c>Dispose</c> or <c>DisposeAsync</c> through the interface: it may release a primitive's permit (a lock's key), reported at this call site.</summary>
        private static bool IsDispose(MethodReference called) =>
            called.HasThis && called.Parameters.Count == 0 &&
            (called.Name, called.DeclaringType.FullName) is ("Dispose", "System.IDisposable") or ("DisposeAsync", "System.IAsyncDisposable");

        private static bool IsHiddenWrapper(MethodReference called)
        {
            MethodDefinition? target;
            try
            {
                target = called.Resolve();
            }
            catch (AssemblyResolutionException)
            {
                return false;
            }

            const string Hidden = "System.Diagnostics.StackTraceHiddenAttribute";
            return target is not null &&
                (target.CustomAttributes.Any(a => a.AttributeType.FullName == Hidden) || target.DeclaringType.CustomAttributes.Any(a => a.AttributeType.FullName == Hidden));
        }

        private static bool IsBuilderCompletion(MethodReference called) =>
            called.Name is "SetResult" or "SetException" &&
            (called.DeclaringType is GenericInstanceType g ? g.ElementType.Name : called.DeclaringType.Name) is "AsyncTaskMethodBuilder" or "AsyncTaskMethodBuilder`1" or "AsyncValueTaskMethodBuilder" or "AsyncValueTaskMethodBuilder`1";

        /// <summary>The probe that ends an async stub: with the Task it returns, or the ValueTask (whose task it reads).</summary>
        private MethodReference ExitProbe(MethodDefinition method)
        {
            if (!ReturnsValueTask(method))
            {
                return module.ImportReference(probes.Async.Exit);
            }

            if (method.ReturnType is not GenericInstanceType generic)
            {
                return module.ImportReference(probes.Async.ExitValueTask);
            }

            var instance = new GenericInstanceMethod(module.ImportReference(probes.Async.ExitValueTaskOf));
            instance.GenericArguments.Add(generic.GenericArguments[0]);
            return instance;
        }

        private bool IsAwaitedAsyncCall(Instruction instruction, MethodReference called)
        {
            // `call F; call GetAwaiter` for a Task; `call F; stloc v; ldloca v; call GetAwaiter` for a ValueTask; with
            // `.ConfigureAwait(false)` its argument comes in between.
            var await = instruction.Next;
            if (await?.OpCode.Code is Code.Stloc or Code.Stloc_S && await.Next?.OpCode.Code is Code.Ldloca or Code.Ldloca_S && await.Next.Operand == await.Operand)
            {
                await = await.Next.Next;
            }

            if (await?.OpCode.Code is Code.Ldc_I4 or Code.Ldc_I4_S or Code.Ldc_I4_0 or Code.Ldc_I4_1 && await.Next?.Operand is MethodReference { Name: "ConfigureAwait" })
            {
                await = await.Next;
            }

            if (await?.Operand is not MethodReference next || next.Name is not ("GetAwaiter" or "ConfigureAwait") || !ReturnsTask(called))
            {
                return false;
            }

            MethodDefinition? target;
            try
            {
                target = called.Resolve();
            }
            catch (AssemblyResolutionException)
            {
                return false;
            }

            // An interface or overridable method (a service behind its interface, as dependency injection has it) is
            // resolved only when it runs: the async implementation it reaches first is the one awaited.
            var dispatched = instruction.OpCode == OpCodes.Callvirt && target is not null && (target.IsAbstract || (target.IsVirtual && !target.IsFinal));
            return target is not null && (target.Module == module || instrumented.Contains(target.Module.Assembly.Name.Name)) &&
                (StateMachineOf(target) is not null || dispatched) && primitives.Owning(target.DeclaringType) is null;
        }

        private MethodReference Import(MethodDefinition probe, MethodReference called)
        {
            var imported = module.ImportReference(probe);
            if (!probe.HasGenericParameters)
            {
                return imported;
            }

            var arguments = called is GenericInstanceMethod gim
                ? gim.GenericArguments
                : (called.DeclaringType as GenericInstanceType)?.GenericArguments;
            var instance = new GenericInstanceMethod(imported);
            foreach (var argument in arguments ?? [])
            {
                instance.GenericArguments.Add(argument);
            }

            return instance;
        }

        private static string Site(MethodDefinition method, Instruction instruction)
        {
            var point = IlEditing.SequencePointOf(method, instruction);
            return SourceSite.Format(point?.Document.Url ?? "", point?.StartLine ?? 0, Naming.Method(method));
        }
    }
}
