using System.Linq.Expressions;
using System.Reflection;
using System.Reflection.Emit;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Harness.Exploration;

/// <summary>The scheduling decisions of one exploration, asked at each of Coyote's scheduling points.</summary>
internal interface IScheduleChooser
{
    /// <summary>Starts iteration <paramref name="iteration"/> (0-based); false ends the exploration.</summary>
    bool StartIteration(uint iteration);

    /// <summary>Chooses which of the enabled operations <paramref name="enabled"/> runs next, or null to end the iteration.</summary>
    /// <param name="enabled">The enabled operations, as <see cref="CoyoteStrategy"/> reads them.</param>
    /// <param name="current">The operation that reached the scheduling point.</param>
    /// <param name="yielding">Whether <paramref name="current"/> yields (a switch away from it is no preemption).</param>
    OperationView? ChooseOperation(IReadOnlyList<OperationView> enabled, OperationView current, bool yielding);

    /// <summary>Chooses a value in [0, <paramref name="count"/>) for a nondeterministic choice, or -1 to end the iteration.</summary>
    int ChooseValue(int count);
}

/// <summary>A controlled operation as the chooser sees it: its id and its group (the flow of control it continues: a Task.Run body and its awaits' continuations).</summary>
internal sealed record OperationView(ulong Id, object Group, object Operation);

/// <summary>
/// The one adapter to Coyote 1.7.11's internals that exploration needs: Coyote offers no way to plug in a strategy, so
/// this emits, at run time, a subclass of its internal <c>InterleavingStrategy</c> that asks an
/// <see cref="IScheduleChooser"/>, and installs it as the engine's only strategy. Pinned to this version by the tests
/// that explore with it (an internal that moves fails them, not a user's run silently).
/// </summary>
internal static class CoyoteStrategy
{
    private static readonly Assembly Core = typeof(Microsoft.Coyote.Configuration).Assembly;
    private static readonly Type Interleaving = Core.GetType("Microsoft.Coyote.Testing.Interleaving.InterleavingStrategy", throwOnError: true)!;
    private static readonly Type Operation = Core.GetType("Microsoft.Coyote.Runtime.ControlledOperation", throwOnError: true)!;
    private static readonly Lazy<Type> Emitted = new(Emit);
    private static readonly Func<object, ulong> IdOf = Getter<ulong>("Id");
    private static readonly Func<object, object> GroupOf = Getter<object>("Group");

    /// <summary>Replaces the strategy of <paramref name="engine"/> (configured with the random strategy) by one that asks <paramref name="chooser"/>.</summary>
    public static void Install(TestingEngine engine, Microsoft.Coyote.Configuration configuration, IScheduleChooser chooser)
    {
        var scheduler = Field(engine, "Scheduler");
        var portfolio = Field(scheduler, "Portfolio");
        var original = ((System.Collections.IEnumerable)portfolio).Cast<object>().First();
        var strategy = Activator.CreateInstance(Emitted.Value, configuration, chooser)!;
        var generator = Interleaving.BaseType!.GetProperty("RandomValueGenerator", BindingFlags.Instance | BindingFlags.NonPublic)!;
        generator.SetValue(strategy, generator.GetValue(original));
        var prefix = Interleaving.GetField("TracePrefix", BindingFlags.Instance | BindingFlags.NonPublic)!;
        prefix.SetValue(strategy, prefix.GetValue(original));
        portfolio.GetType().GetMethod("Clear")!.Invoke(portfolio, null);
        portfolio.GetType().GetMethod("AddLast", [portfolio.GetType().GetGenericArguments()[0]])!.Invoke(portfolio, [strategy]);
    }

    /// <summary>Called by the emitted strategy: reads the operations and asks the chooser.</summary>
    public static object? Choose(IScheduleChooser chooser, IEnumerable<object> ops, object current, bool yielding)
    {
        var enabled = ops.Select(View).OrderBy(o => o.Id).ToList();
        return chooser.ChooseOperation(enabled, View(current), yielding)?.Operation;
    }

    /// <summary>Called by the emitted strategy for a nondeterministic boolean; false ends the iteration.</summary>
    public static bool ChooseBoolean(IScheduleChooser chooser, out bool next)
    {
        var value = chooser.ChooseValue(2);
        next = value == 1;
        return value >= 0;
    }

    /// <summary>Called by the emitted strategy for a nondeterministic integer in [0, <paramref name="maxValue"/>); false ends the iteration.</summary>
    public static bool ChooseInteger(IScheduleChooser chooser, int maxValue, out int next)
    {
        next = chooser.ChooseValue(maxValue);
        return next >= 0;
    }

    private static OperationView View(object op) => new(IdOf(op), GroupOf(op), op);

    private static object Field(object target, string name)
    {
        for (var type = target.GetType(); type is not null; type = type.BaseType)
        {
            const BindingFlags Any = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly;
            if ((type.GetField(name, Any)?.GetValue(target) ?? type.GetProperty(name, Any)?.GetValue(target)) is { } value)
            {
                return value;
            }
        }

        throw new InvalidOperationException($"Coyote 1.7.11 was expected to have a field or property {name} in {target.GetType().Name}.");
    }

    private static Func<object, T> Getter<T>(string property)
    {
        var parameter = Expression.Parameter(typeof(object));
        var body = Expression.Convert(Expression.PropertyOrField(Expression.Convert(parameter, Operation), property), typeof(T));
        return Expression.Lambda<Func<object, T>>(body, parameter).Compile();
    }

    /// <summary>Emits <c>sealed class ChooserStrategy : InterleavingStrategy</c> whose overrides forward to an <see cref="IScheduleChooser"/>.</summary>
    private static Type Emit()
    {
        var emitter = new StrategyEmitter(DefineModule());
        emitter.EmitConstructor();
        emitter.EmitInitializeNextIteration();
        emitter.EmitNextOperation();
        emitter.EmitValueChoices();
        emitter.EmitName();
        return emitter.Create();
    }

    /// <summary>A dynamic module allowed to reach Coyote's and this assembly's internals.</summary>
    private static ModuleBuilder DefineModule()
    {
        var name = new AssemblyName("Systematic.Exploration.Dynamic");
        var assembly = AssemblyBuilder.DefineDynamicAssembly(name, AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule(name.Name!);
        var ignores = IgnoresAccessChecksTo(module);
        foreach (var target in new[] { Core.GetName().Name!, typeof(CoyoteStrategy).Assembly.GetName().Name! })
        {
            assembly.SetCustomAttribute(new CustomAttributeBuilder(ignores, [target]));
        }

        return module;
    }

    /// <summary>Builds the strategy type one member at a time.</summary>
    private sealed class StrategyEmitter
    {
        private const BindingFlags Any = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

        private readonly TypeBuilder type;
        private readonly FieldBuilder chooserField;

        public StrategyEmitter(ModuleBuilder module)
        {
            this.type = module.DefineType("Systematic.Exploration.ChooserStrategy", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, Interleaving);
            this.chooserField = this.type.DefineField("chooser", typeof(IScheduleChooser), FieldAttributes.Private | FieldAttributes.InitOnly);
        }

        /// <summary><c>ctor(Configuration configuration, IScheduleChooser chooser) : base(configuration, isFair: false)</c>.</summary>
        public void EmitConstructor()
        {
            var baseCtor = Interleaving.GetConstructor(Any, [typeof(Microsoft.Coyote.Configuration), typeof(bool)])!;
            var ctor = this.type.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(Microsoft.Coyote.Configuration), typeof(IScheduleChooser)]);
            var il = ctor.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Call, baseCtor);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Stfld, this.chooserField);
            il.Emit(OpCodes.Ret);
        }

        /// <summary><c>bool InitializeNextIteration(uint iteration) =&gt; base.InitializeNextIteration(iteration) &amp;&amp; chooser.StartIteration(iteration)</c>.</summary>
        public void EmitInitializeNextIteration() => this.Override("InitializeNextIteration", g =>
        {
            var no = g.DefineLabel();
            g.Emit(OpCodes.Ldarg_0);
            g.Emit(OpCodes.Ldarg_1);
            g.Emit(OpCodes.Call, Interleaving.GetMethod("InitializeNextIteration", Any)!);
            g.Emit(OpCodes.Brfalse, no);
            g.Emit(OpCodes.Ldarg_0);
            g.Emit(OpCodes.Ldfld, this.chooserField);
            g.Emit(OpCodes.Ldarg_1);
            g.Emit(OpCodes.Callvirt, typeof(IScheduleChooser).GetMethod(nameof(IScheduleChooser.StartIteration))!);
            g.Emit(OpCodes.Ret);
            g.MarkLabel(no);
            g.Emit(OpCodes.Ldc_I4_0);
            g.Emit(OpCodes.Ret);
        });

        /// <summary><c>bool NextOperation(ops, current, isYielding, out next)</c>: <c>next = CoyoteStrategy.Choose(chooser, ops, current, isYielding)</c>, true unless null.</summary>
        public void EmitNextOperation() => this.Override("NextOperation", g =>
        {
            var chosen = g.DeclareLocal(typeof(object));
            g.Emit(OpCodes.Ldarg_0);
            g.Emit(OpCodes.Ldfld, this.chooserField);
            g.Emit(OpCodes.Ldarg_1);
            g.Emit(OpCodes.Ldarg_2);
            g.Emit(OpCodes.Ldarg_3);
            g.Emit(OpCodes.Call, typeof(CoyoteStrategy).GetMethod(nameof(Choose))!);
            g.Emit(OpCodes.Stloc, chosen);
            g.Emit(OpCodes.Ldarg_S, (byte)4);
            g.Emit(OpCodes.Ldloc, chosen);
            g.Emit(OpCodes.Castclass, Operation);
            g.Emit(OpCodes.Stind_Ref);
            g.Emit(OpCodes.Ldloc, chosen);
            g.Emit(OpCodes.Ldnull);
            g.Emit(OpCodes.Cgt_Un);
            g.Emit(OpCodes.Ret);
        });

        /// <summary>
        /// <c>bool NextBoolean(current, out next) =&gt; CoyoteStrategy.ChooseBoolean(chooser, out next)</c> and
        /// <c>bool NextInteger(current, maxValue, out next) =&gt; CoyoteStrategy.ChooseInteger(chooser, maxValue, out next)</c>.
        /// </summary>
        public void EmitValueChoices()
        {
            foreach (var (method, helper, arguments) in new[] { ("NextBoolean", nameof(ChooseBoolean), new[] { OpCodes.Ldarg_2 }), ("NextInteger", nameof(ChooseInteger), [OpCodes.Ldarg_2, OpCodes.Ldarg_3]) })
            {
                this.Override(method, g =>
                {
                    g.Emit(OpCodes.Ldarg_0);
                    g.Emit(OpCodes.Ldfld, this.chooserField);
                    foreach (var argument in arguments)
                    {
                        g.Emit(argument);
                    }

                    g.Emit(OpCodes.Call, typeof(CoyoteStrategy).GetMethod(helper)!);
                    g.Emit(OpCodes.Ret);
                });
            }
        }

        /// <summary>The trace and Coyote's own report call it "random": any Coyote replays the recorded steps whatever chose them.</summary>
        public void EmitName()
        {
            foreach (var method in new[] { "GetName", "GetDescription" })
            {
                this.Override(method, g =>
                {
                    g.Emit(OpCodes.Ldstr, "random");
                    g.Emit(OpCodes.Ret);
                });
            }
        }

        public Type Create() => this.type.CreateType();

        private void Override(string method, Action<ILGenerator> body)
        {
            var overridden = Interleaving.GetMethod(method, Any) ?? Interleaving.BaseType!.GetMethod(method, Any)!;
            var parameters = overridden.GetParameters().Select(p => p.ParameterType).ToArray();
            var builder = this.type.DefineMethod(method, MethodAttributes.Assembly | MethodAttributes.Virtual | MethodAttributes.HideBySig, overridden.ReturnType, parameters);
            body(builder.GetILGenerator());
            this.type.DefineMethodOverride(builder, overridden);
        }
    }

    /// <summary>Defines <c>IgnoresAccessChecksToAttribute</c> in <paramref name="module"/> (the runtime knows it by name, as DispatchProxy does) and returns its constructor.</summary>
    private static ConstructorInfo IgnoresAccessChecksTo(ModuleBuilder module)
    {
        var attribute = module.DefineType("System.Runtime.CompilerServices.IgnoresAccessChecksToAttribute", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(Attribute));
        var ctor = attribute.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(string)]);
        var il = ctor.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, typeof(Attribute).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)!);
        il.Emit(OpCodes.Ret);
        attribute.SetCustomAttribute(new CustomAttributeBuilder(typeof(AttributeUsageAttribute).GetConstructor([typeof(AttributeTargets)])!, [AttributeTargets.Assembly], [typeof(AttributeUsageAttribute).GetProperty(nameof(AttributeUsageAttribute.AllowMultiple))!], [true]));
        return attribute.CreateType().GetConstructor([typeof(string)])!;
    }
}
