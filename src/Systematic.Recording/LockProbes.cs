using System.ComponentModel;
using System.Runtime.CompilerServices;
using ControlledMonitor = Microsoft.Coyote.Rewriting.Types.Threading.Monitor;

namespace Systematic.Recording;

/// <summary>
/// Controlled, recorded stand-ins for .NET 9+'s <see cref="Lock"/>, which Coyote 1.7.11 leaves uncontrolled: the
/// instrumenter redirects <c>EnterScope</c> (what a <c>lock</c> statement on a <see cref="Lock"/> compiles to),
/// <c>Scope.Dispose</c>, <c>Enter</c>, <c>TryEnter</c> and <c>Exit</c> here. The lock runs as a controlled monitor on
/// the <see cref="Lock"/> object, re-entrant as <see cref="Lock"/> is, explored and diagnosed exactly like <c>lock</c>
/// on an object; a timed <c>TryEnter</c> may time out as a recorded choice.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
#pragma warning disable CS9216 // A Lock used as a monitor object: exactly the point here, every use of it is redirected alike.
public static class LockProbes
{
    /// <summary>Enters the lock and returns the scope whose <c>Dispose</c> (also redirected) exits it.</summary>
    public static Lock.Scope EnterScope(Lock instance, string site, string? hint)
    {
        MonitorProbes.Enter(instance, site, hint);
        Lock.Scope scope = default;

        // A scope of ours holds the lock and no owning thread id: Dispose tells it from one Lock itself made.
        Unsafe.As<Lock.Scope, Lock?>(ref scope) = instance;
        return scope;
    }

    /// <summary>Exits the lock a scope holds.</summary>
    public static void Dispose(ref Lock.Scope scope, string site)
    {
        var instance = Unsafe.As<Lock.Scope, Lock?>(ref scope);
        if (instance is null)
        {
            return;
        }

        if (!IsOurs(ref scope))
        {
            // Entered by uninstrumented code (a scope returned across assemblies): let Lock exit it.
            scope.Dispose();
            return;
        }

        Unsafe.As<Lock.Scope, Lock?>(ref scope) = null;
        MonitorProbes.Exit(instance, site);
    }

    /// <summary>Enters the lock.</summary>
    public static void Enter(Lock instance, string site, string? hint) => MonitorProbes.Enter(instance, site, hint);

    /// <summary>Tries to enter the lock at once.</summary>
    public static bool TryEnter(Lock instance, string site, string? hint) => MonitorProbes.TryEnter(instance, site, hint);

    /// <summary>Tries to enter the lock within a timeout; it may time out whenever it would block (a recorded choice).</summary>
    public static bool TryEnter(Lock instance, int millisecondsTimeout, string site, string? hint) =>
        MonitorProbes.TryEnter(instance, millisecondsTimeout, site, hint);

    /// <summary>Tries to enter the lock within a timeout; it may time out whenever it would block (a recorded choice).</summary>
    public static bool TryEnter(Lock instance, TimeSpan timeout, string site, string? hint) =>
        MonitorProbes.TryEnter(instance, timeout, site, hint);

    /// <summary>Exits the lock.</summary>
    public static void Exit(Lock instance, string site) => MonitorProbes.Exit(instance, site);

    /// <summary>Gets whether the current task holds the lock.</summary>
    public static bool get_IsHeldByCurrentThread(Lock instance, string site) => ControlledMonitor.IsEntered(instance);

    private static bool IsOurs(ref Lock.Scope scope)
    {
        // Lock.Scope is (Lock lockObj, ThreadId currentThreadId); ours leave the id 0, Lock's own never do.
        ref var bytes = ref Unsafe.As<Lock.Scope, byte>(ref scope);
        return Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref bytes, IntPtr.Size)) == 0;
    }
}
#pragma warning restore CS9216
