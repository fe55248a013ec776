using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;
using Systematic.Recording;

namespace Systematic.Instrumentation;

/// <summary>The edits of one instrumentation pass over a module: see <see cref="Instrumenter"/>.</summary>
internal sealed class InstrumentationPass(ModuleDefinition module, ProbeMap probes, IReadOnlySet<string> instrumented, PrimitiveTable primitives)
{
    private const string TestAttribute = Instrumenter.CoyoteTestAttribute;

    /// <summary>Systematic.Testing's xunit attribute: such a test is a Coyote test too.</summary>
    private const string SystematicFactAttribute = Instrumenter.SystematicFactAttribute;
    private const string AsyncStateMachine = "System.Runtime.CompilerServices.AsyncStateMachineAttribute";
    private const string VoidType = "System.Void";
    private const string ObjectType = "System.Object";
    private const string LockType = "System.Threading.Lock";
    private const string TaskType = "System.Threading.Tasks.Task";
    private const string TaskOfType = "System.Threading.Tasks.Task`1";
    private const string ValueTaskType = "System.Threading.Tasks.ValueTask";
    private const string ValueTaskOfType = "System.Threading.Tasks.ValueTask`1";
    private const string CompletionSourceType = "System.Threading.Tasks.TaskCompletionSource";
    private const string CompletionSourceOfType = "System.Threading.Tasks.TaskCompletionSource`1";

    /// <summary>The async method builders' completion that a state machine's hook goes before.</summary>
    private const string SetResult = "SetResult";

    /// <summary>The factory of Coyote's controlled <c>SemaphoreSlim</c>, whose result a signal is stored from.</summary>
    private const string SemaphoreCreate = "Create";

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
            var isTest = IsTest(method);
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

    private static bool IsTest(MethodDefinition method) => method.CustomAttributes.Any(a => a.AttributeType.FullName == TestAttribute);

    private static MethodDefinition? StateMachineOf(MethodDefinition method)
    {
        var attribute = method.CustomAttributes.FirstOrDefault(a => a.AttributeType.FullName == AsyncStateMachine);
        return attribute?.ConstructorArguments[0].Value is TypeReference type
            ? type.Resolve()?.Methods.FirstOrDefault(m => m.Name == "MoveNext")
            : null;
    }

    /// <summary>Whether the method returns a Task, a ValueTask or their generic forms: what an async method's caller awaits.</summary>
    private static bool ReturnsTask(MethodReference method) =>
        IlEditing.ElementName(method.ReturnType) is TaskType or TaskOfType or ValueTaskType or ValueTaskOfType;

    private static bool ReturnsValueTask(MethodReference method) =>
        IlEditing.ElementName(method.ReturnType) is ValueTaskType or ValueTaskOfType;

    /// <summary>Routes the calls of one method body through their probes and adds its async and test probes.</summary>
    private void Edit(MethodDefinition method)
    {
        if (primitives.Owning(method.DeclaringType) is { } primitive)
        {
            // Inside a known primitive: the primitive is the resource, its own monitors and tasks are not recorded.
            this.EditPrimitive(method, primitive);
            return;
        }

        method.Body.SimplifyMacros();
        var edit = new BodyEdit(module, method, this.completionHooks.Contains(method), this.testStateMachines.Contains(method));
        var isTest = IsTest(method);
        var isAsyncStub = !isTest && StateMachineOf(method) is not null && ReturnsTask(method);
        foreach (var instruction in edit.Original)
        {
            if (instruction.OpCode.FlowControl == FlowControl.Call && instruction.Operand is MethodReference called)
            {
                this.EditCall(edit, instruction, called);
            }
        }

        if (isAsyncStub)
        {
            this.AddAsyncEnterAndExit(edit);
        }

        if (isTest)
        {
            this.AddTestBeginAndEnd(edit);
        }

        method.Body.OptimizeMacros();
    }

    /// <summary>Edits one call: the first step that applies to it puts its probes around it.</summary>
    private void EditCall(BodyEdit edit, Instruction instruction, MethodReference called)
    {
        if (instruction.OpCode == OpCodes.Newobj && this.ProbeCreation(edit, instruction, called))
        {
            return;
        }

        if (Doctor.Match(called) is { } uncontrolled)
        {
            this.NoteUncontrolledCall(edit, instruction, uncontrolled.Api);
            return;
        }

        var awaited = this.IsAwaitedAsyncCall(instruction, called);
        if (IsHiddenWrapper(called) || primitives.Owning(called.DeclaringType) is not null || IsDispose(called))
        {
            this.ReportAtCallerSite(edit, instruction, called, awaited);
        }
        else if (edit.IsMoveNext && IsBuilderCompletion(called))
        {
            this.HookCompletion(edit, instruction, called);
        }
        else if (ProbeMap.IsProbedType(called.DeclaringType) && probes.Find(called) is { } probe)
        {
            this.RouteThroughProbe(edit, instruction, called, probe);
        }
        else if (awaited)
        {
            var call = IlEditing.InsertBefore(edit.Il, instruction, edit.LoadSite(instruction), edit.Call(probes.Async.AwaitedCall));
            edit.Il.InsertAfter(call, edit.Call(probes.Async.AwaitedCallReturned));
        }
    }

    /// <summary>
    /// A <c>newobj</c> of what is recorded from its creation: a declared primitive, a completion source, a type whose
    /// probe makes it, a possible lock object. Returns false, and leaves it alone, for anything else.
    /// </summary>
    private bool ProbeCreation(BodyEdit edit, Instruction newobj, MethodReference constructor)
    {
        var type = constructor.DeclaringType;
        if (primitives.Of(type) is { } created)
        {
            // A primitive made here: register it, named by where it is stored.
            this.AfterCreation(edit, newobj, probes.Primitives.Created, edit.Il.Create(OpCodes.Ldc_I4, created.Permits), edit.LoadSite(newobj));
            return true;
        }

        if (IlEditing.ElementName(type) is CompletionSourceType or CompletionSourceOfType)
        {
            // Named for where it was made, should a task ever wait for it for ever.
            this.AfterCreation(edit, newobj, probes.CompletionSourceCreated, edit.LoadSite(newobj));
            return true;
        }

        if (ProbeMap.IsProbedType(type) && probes.FindConstructor(constructor) is { } factory)
        {
            // A constructor Coyote leaves uncontrolled (a source with a timeout): its probe makes the object.
            var call = IlEditing.InsertBefore(edit.Il, newobj, edit.LoadSite(newobj));
            call.OpCode = OpCodes.Call;
            call.Operand = module.ImportReference(factory.Method);
            this.ProbedCalls++;
            return true;
        }

        if (type.FullName is ObjectType or LockType)
        {
            // A possible lock object: remember where it was made, so it is known by that site and order.
            this.AfterCreation(edit, newobj, probes.LockCreated, edit.LoadSite(newobj));
            return true;
        }

        return false;
    }

    /// <summary>After a <c>newobj</c>: <c>dup</c>, then <paramref name="arguments"/> and the name hint, then a call to <paramref name="probe"/>.</summary>
    private void AfterCreation(BodyEdit edit, Instruction newobj, MethodDefinition probe, params Instruction[] arguments)
    {
        var il = edit.Il;
        var hint = NameHints.StoredInto(edit.Method, newobj);
        var last = newobj;
        foreach (var added in (Instruction[])[il.Create(OpCodes.Dup), .. arguments, edit.LoadHint(hint), edit.Call(probe)])
        {
            il.InsertAfter(last, added);
            last = added;
        }

        this.ProbedCalls++;
    }

    /// <summary>Before a call into code Coyote does not control: noted when it runs, as a failure after it may be a false alarm and its trace is not promised to replay.</summary>
    private void NoteUncontrolledCall(BodyEdit edit, Instruction instruction, string api)
    {
        var prefixed = instruction.Previous is { OpCode.OpCodeType: OpCodeType.Prefix } prefix ? prefix : instruction;
        IlEditing.InsertBefore(edit.Il, prefixed, edit.Il.Create(OpCodes.Ldstr, api), edit.LoadSite(instruction), edit.Call(probes.UncontrolledCalled));
    }

    /// <summary>
    /// A call whose events are reported at this call site (a [StackTraceHidden] wrapper, a primitive's method, a
    /// <c>Dispose</c> through the interface): the caller-site probes around it, the awaited-call probes if it is
    /// awaited, and a <c>Dispose</c> may give a declared primitive's permit back.
    /// </summary>
    private void ReportAtCallerSite(BodyEdit edit, Instruction instruction, MethodReference called, bool awaited)
    {
        var il = edit.Il;
        var previous = new VariableDefinition(module.TypeSystem.String);
        edit.Method.Body.Variables.Add(previous);

        // A prefix (constrained. on a struct's Dispose) must stay right before its call: insert before both.
        var prefixed = instruction.Previous is { OpCode.OpCodeType: OpCodeType.Prefix } prefix ? prefix : null;
        var moved = IlEditing.InsertBefore(il, prefixed ?? instruction, edit.LoadSite(instruction), edit.Call(probes.Async.EnterCallerSite), il.Create(OpCodes.Stloc, previous));
        var call = prefixed is null ? moved : instruction;
        var restore = il.Create(OpCodes.Ldloc, previous);
        il.InsertAfter(call, restore);
        var exit = edit.Call(probes.Async.ExitCallerSite);
        il.InsertAfter(restore, exit);
        if (awaited)
        {
            IlEditing.InsertBefore(il, moved, edit.LoadSite(instruction), edit.Call(probes.Async.AwaitedCall));
            il.InsertAfter(exit, edit.Call(probes.Async.AwaitedCallReturned));
        }

        if (prefixed is null && IsDispose(called) && primitives.ReleasedByDisposing is { } owners)
        {
            // A releaser some acquire of a declared primitive may have returned: disposing it gives the permit back.
            IlEditing.InsertBefore(il, call, il.Create(OpCodes.Dup), il.Create(OpCodes.Ldstr, owners), edit.LoadSite(instruction), edit.Call(probes.Primitives.Disposing));
        }
    }

    /// <summary>Before an async state machine's builder completes its task: the method completed, and a test's recording ends with its result.</summary>
    private void HookCompletion(BodyEdit edit, Instruction instruction, MethodReference called)
    {
        var hooks = new List<Instruction>();
        if (edit.IsTestMoveNext && called.Name == SetResult)
        {
            hooks.Add(edit.Call(probes.Async.EndTest));
        }

        if (called.Name != SetResult)
        {
            // SetException(exception): the exception is on the stack; the probe notes it and hands it back.
            hooks.Add(edit.Call(probes.Async.Faulted));
        }

        hooks.Add(edit.Call(probes.Async.Completed));
        IlEditing.InsertBefore(edit.Il, instruction, [.. hooks]);
    }

    /// <summary>A call to one of Coyote's controlled entry points: its probe, given the site (and a name hint), stands in for it.</summary>
    private void RouteThroughProbe(BodyEdit edit, Instruction instruction, MethodReference called, Probe probe)
    {
        var inserted = new List<Instruction> { edit.LoadSite(instruction) };
        if (probe.TakesHint)
        {
            inserted.Add(edit.LoadHint(NameHints.For(edit.Method, instruction, called)));
        }

        var call = IlEditing.InsertBefore(edit.Il, instruction, [.. inserted]);
        call.OpCode = OpCodes.Call;
        call.Operand = this.Import(probe.Method, called);
        this.ProbedCalls++;
        if (called.Name == SemaphoreCreate && call.Next?.OpCode.Code is Code.Stfld or Code.Stsfld && call.Next.Operand is FieldReference stored &&
            this.signals.TryGetValue(SignalAnalysis.Key(stored), out var releasedBy))
        {
            this.DeclareSignal(edit, call, releasedBy);
        }
    }

    /// <summary>After a semaphore that is a signal by its call sites is made: say so, and who releases it, before any of it runs.</summary>
    private void DeclareSignal(BodyEdit edit, Instruction create, IReadOnlyList<string> releasedBy)
    {
        var il = edit.Il;
        var dup = il.Create(OpCodes.Dup);
        il.InsertAfter(create, dup);
        var text = il.Create(OpCodes.Ldstr, string.Join(", ", releasedBy));
        il.InsertAfter(dup, text);
        il.InsertAfter(text, edit.Call(probes.SignalCreated));
    }

    /// <summary>An async method's stub: records its start on entry and, with the task it returns, its end at every return.</summary>
    private void AddAsyncEnterAndExit(BodyEdit edit)
    {
        this.AsyncMethods++;
        var il = edit.Il;
        var body = edit.Method.Body;
        var token = new VariableDefinition(module.TypeSystem.Int64);
        body.Variables.Add(token);
        foreach (var ret in edit.Original.Where(i => i.OpCode == OpCodes.Ret))
        {
            IlEditing.InsertBefore(il, ret, il.Create(OpCodes.Dup), il.Create(OpCodes.Ldloc, token), il.Create(OpCodes.Call, this.ExitProbe(edit.Method)));
        }

        IlEditing.InsertBefore(il, body.Instructions[0], il.Create(OpCodes.Ldstr, Naming.Method(edit.Method)), edit.Call(probes.Async.Enter), il.Create(OpCodes.Stloc, token));
    }

    /// <summary>
    /// A test: begins a recording on entry; a void test ends it at every return, a Task test that is not async once its
    /// task is done (an async test ends it in its state machine's completion hook).
    /// </summary>
    private void AddTestBeginAndEnd(BodyEdit edit)
    {
        this.Tests++;
        var method = edit.Method;
        var isAsync = StateMachineOf(method) is not null;
        foreach (var ret in edit.Original.Where(i => i.OpCode == OpCodes.Ret))
        {
            if (method.ReturnType.FullName == VoidType)
            {
                IlEditing.InsertBefore(edit.Il, ret, edit.Call(probes.Async.EndTest));
            }
            else if (!isAsync && method.ReturnType.FullName == TaskType)
            {
                IlEditing.InsertBefore(edit.Il, ret, edit.Call(probes.Async.EndTestAfter));
            }
        }

        IlEditing.InsertBefore(edit.Il, method.Body.Instructions[0], edit.Il.Create(OpCodes.Ldstr, Naming.TestName(method)), edit.Call(probes.Async.BeginTest));
    }

    /// <summary>
    /// Puts the primitive's probes into one of its methods: an acquire method records its wait on entry and what it
    /// returns on exit, a release method records the permits it gives back. Nothing else in a primitive is probed.
    /// </summary>
    private void EditPrimitive(MethodDefinition method, PrimitiveSpec primitive)
    {
        var isAcquire = primitive.Acquire.Contains(method.Name);
        var isRelease = IsRecordedRelease(method, primitive);
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
            this.RecordRelease(method, il, site);
        }
        else
        {
            this.RecordAcquire(method, primitive, il, site);
        }

        this.ProbedCalls++;
        body.OptimizeMacros();
    }

    /// <summary>A release method of the primitive; an overload that forwards to another (Release() calling Release(1)) is not recorded twice.</summary>
    private static bool IsRecordedRelease(MethodDefinition method, PrimitiveSpec primitive) =>
        primitive.Release.Contains(method.Name) && !method.Body.Instructions.Any(i =>
            i.OpCode.FlowControl == FlowControl.Call && i.Operand is MethodReference other && other.Name == method.Name &&
            IlEditing.ElementName(other.DeclaringType) == IlEditing.ElementName(method.DeclaringType));

    /// <summary>On entry to a primitive's release method: the permits it gives back (its integer first parameter, or one).</summary>
    private void RecordRelease(MethodDefinition method, ILProcessor il, string site)
    {
        var first = method.Parameters.FirstOrDefault();
        var amount = first?.ParameterType.MetadataType is MetadataType.Int32 or MetadataType.Int64 or MetadataType.Int16 or MetadataType.UInt32
            ? new[] { il.Create(OpCodes.Ldarg, first), il.Create(OpCodes.Conv_I8) }
            : [il.Create(OpCodes.Ldc_I8, 1L)];
        IlEditing.InsertBefore(il, method.Body.Instructions[0], [il.Create(OpCodes.Ldarg_0), .. amount, il.Create(OpCodes.Ldstr, site), il.Create(OpCodes.Call, module.ImportReference(probes.Primitives.Released))]);
    }

    /// <summary>A primitive's acquire method: its wait begins on entry and ends, with what it returns, at every return.</summary>
    private void RecordAcquire(MethodDefinition method, PrimitiveSpec primitive, ILProcessor il, string site)
    {
        var body = method.Body;
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
        called.Name is SetResult or "SetException" &&
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

    /// <summary>One method body under edit: its IL processor, its instructions before any edit, and the source site of each call.</summary>
    private sealed class BodyEdit
    {
        private readonly ModuleDefinition module;
        private readonly Dictionary<Instruction, string> sites;

        public BodyEdit(ModuleDefinition module, MethodDefinition method, bool isMoveNext, bool isTestMoveNext)
        {
            this.module = module;
            this.Method = method;
            this.Il = method.Body.GetILProcessor();
            this.Original = method.Body.Instructions.ToList();
            this.sites = this.Original.Where(i => i.OpCode.FlowControl == FlowControl.Call).ToDictionary(i => i, i => Site(method, i));
            this.IsMoveNext = isMoveNext;
            this.IsTestMoveNext = isTestMoveNext;
        }

        public MethodDefinition Method { get; }

        public ILProcessor Il { get; }

        public List<Instruction> Original { get; }

        /// <summary>Gets whether the body is the state machine of an async method that returns a task: its completion is hooked.</summary>
        public bool IsMoveNext { get; }

        /// <summary>Gets whether that async method is a test: its recording ends when it completes.</summary>
        public bool IsTestMoveNext { get; }

        /// <summary>Loads the source site of a call, as it was before any edit.</summary>
        public Instruction LoadSite(Instruction call) => this.Il.Create(OpCodes.Ldstr, this.sites[call]);

        public Instruction LoadHint(string? hint) => hint is null ? this.Il.Create(OpCodes.Ldnull) : this.Il.Create(OpCodes.Ldstr, hint);

        public Instruction Call(MethodDefinition probe) => this.Il.Create(OpCodes.Call, this.module.ImportReference(probe));

        private static string Site(MethodDefinition method, Instruction instruction)
        {
            var point = SourceLines.Of(method, instruction);
            return SourceSite.Format(point?.File ?? "", point?.Line ?? 0, Naming.Method(method));
        }
    }
}
