using System.Reflection;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Harness;

/// <summary>
/// The instances of a test class whose test method is not static: one per iteration, made by the class's public
/// parameterless constructor before the iteration starts (outside the controlled run, as <c>coyote replay</c> makes
/// its one), and disposed when it ends. The delegates handed to the engine call the current one.
/// </summary>
internal sealed class TestInstances
{
    private readonly MethodInfo method;
    private readonly Func<object> make;
    private readonly List<Action<object>> rebinds = [];

    /// <param name="method">The test method.</param>
    /// <param name="make">How to make an instance when not by the public parameterless constructor, or null.</param>
    public TestInstances(MethodInfo method, Func<object>? make = null)
    {
        this.method = method;
        var type = method.DeclaringType!;
        var constructor = type.GetConstructor(Type.EmptyTypes);
        this.make = make ?? (constructor is not null
            ? () => constructor.Invoke(null)
            : throw new HarnessException($"Test {type.FullName}.{method.Name} is an instance method of a class without a public parameterless constructor: make it static, or give {type.Name} such a constructor (as `coyote replay` needs too)."));
        this.Current = this.Create();
    }

    /// <summary>Gets the instance the current iteration runs on.</summary>
    public object? Current { get; private set; }

    /// <summary>Returns a delegate of <paramref name="type"/> that calls the method on the current instance.</summary>
    public Delegate Bind(Type type)
    {
        // Bound once per iteration, not per call: a delegate bound to the instance, swapped when the instance is.
        var holder = new Delegate?[] { this.method.CreateDelegate(type, this.Current) };
        this.rebinds.Add(instance => holder[0] = this.method.CreateDelegate(type, instance));
        var invoke = type.GetMethod("Invoke")!;
        var parameters = invoke.GetParameters().Select(p => System.Linq.Expressions.Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        var current = System.Linq.Expressions.Expression.Convert(
            System.Linq.Expressions.Expression.ArrayIndex(System.Linq.Expressions.Expression.Constant(holder), System.Linq.Expressions.Expression.Constant(0)), type);
        return System.Linq.Expressions.Expression.Lambda(type, System.Linq.Expressions.Expression.Invoke(current, parameters), parameters).Compile();
    }

    /// <summary>Makes a new instance before every iteration after the first and disposes the old one after each.</summary>
    public void Attach(TestingEngine engine)
    {
        var first = true;
        engine.RegisterStartIterationCallBack(_ =>
        {
            if (!first)
            {
                this.Current = this.Create();
                foreach (var rebind in this.rebinds)
                {
                    rebind(this.Current!);
                }
            }

            first = false;
        });
        engine.RegisterEndIterationCallBack(_ => (this.Current as IDisposable)?.Dispose());
    }

    private object Create()
    {
        try
        {
            return this.make();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new HarnessException($"The constructor of {this.method.DeclaringType!.FullName} threw {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
    }
}
