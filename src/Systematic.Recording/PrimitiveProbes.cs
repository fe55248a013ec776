using System.ComponentModel;
using System.Reflection;

namespace Systematic.Recording;

/// <summary>
/// Probes for locks and semaphores from packages or the user's code (Nito.AsyncEx's <c>AsyncLock</c>, Visual Studio's
/// <c>AsyncSemaphore</c>, a type declared with <c>[assembly: SynchronizationPrimitive]</c>): the instrumenter puts
/// <see cref="BeginAcquire"/> and <see cref="EndAcquire{T}"/> around their acquire methods, <see cref="Released"/> at
/// the start of their release methods and <see cref="Created"/> after each construction in instrumented code. The
/// primitive is then a resource like a <see cref="SemaphoreSlim"/>: a returned task that is not complete yet is a wait,
/// and its acquire is recorded when the waiting task runs again.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PrimitiveProbes
{
    [ThreadStatic]
    private static Acquiring? acquiring;

    /// <summary>Registers a primitive just constructed, named by the field or local it is stored into.</summary>
    public static void Created(object instance, int permits, string site, string? hint)
    {
        if (Recorder.Live is { } session && !session.Resources.TryGet(instance, out _))
        {
            Observe(session, instance, permits, site, hint);
        }
    }

    /// <summary>Called first in an acquire method: records the wait. Returns a token for <see cref="EndAcquire{T}"/> (0 for an acquire nested in another, not recorded).</summary>
    public static long BeginAcquire(object instance, int permits, string site)
    {
        if (Recorder.Live is not { } session || acquiring is { } outer && ReferenceEquals(outer.Instance, instance))
        {
            return 0;
        }

        var resource = Observe(session, instance, permits, site, null);
        var task = Recorder.CurrentTask;
        var where = AsyncProbes.Site(site);
        session.Emit(EventKind.Wait, task, resource.Id, where, Free(session, resource.Id));
        acquiring = new Acquiring(instance, resource.Id, task, where);
        return resource.Id;
    }

    /// <summary>Called with what an acquire method returns: a completed acquire is recorded now, a pending one when its task runs again.</summary>
    public static T EndAcquire<T>(T result, object instance, long token)
    {
        if (token > 0 && acquiring is { } a && ReferenceEquals(a.Instance, instance))
        {
            acquiring = null;
            if (Recorder.Live is { } session)
            {
                var (completed, succeeded, task) = Awaitable<T>.Inspect(result);
                Settle(session, a, completed, succeeded, task);
            }
        }

        return result;
    }

    /// <summary>Called at the end of an acquire method that returns nothing: it returned with the permit.</summary>
    public static void EndAcquire(object instance, long token)
    {
        if (token > 0 && acquiring is { } a && ReferenceEquals(a.Instance, instance))
        {
            acquiring = null;
            if (Recorder.Live is { } session)
            {
                Settle(session, a, completed: true, succeeded: true, null);
            }
        }
    }

    /// <summary>Called first in a release method: <paramref name="amount"/> permits come back.</summary>
    public static void Released(object instance, long amount, string site)
    {
        if (Recorder.Live is not { } session || !session.Resources.TryGet(instance, out var resource))
        {
            return;
        }

        var count = (int)Math.Min(int.MaxValue, Free(session, resource.Id) + Math.Max(1, amount));
        session.Emit(EventKind.Release, Recorder.CurrentTask, resource.Id, site, count, (int)Math.Max(1, amount));
    }

    /// <summary>
    /// Called before <c>Dispose</c> or <c>DisposeAsync</c> on an object in instrumented code: when it is the releaser an
    /// acquire of a primitive declared with a <c>Dispose</c> release returned (an object holding that primitive in a
    /// field), its first disposal gives the permit back.
    /// </summary>
    /// <param name="releaser">The object disposed.</param>
    /// <param name="owners">The runtime names of the primitives released this way, comma-separated.</param>
    /// <param name="site">The call site.</param>
    public static void Disposing(object? releaser, string owners, string site)
    {
        if (releaser is null || Recorder.Live is not { } session)
        {
            return;
        }

        foreach (var field in ReleaserFields.GetOrAdd(releaser.GetType(), Fields))
        {
            if (field.GetValue(releaser) is { } target && Array.IndexOf(owners.Split(','), target.GetType().FullName) >= 0 &&
                session.Resources.TryGet(target, out var resource))
            {
                if (session.Resources.NoteDisposed(releaser))
                {
                    session.Emit(EventKind.Release, Recorder.CurrentTask, resource.Id, site, Free(session, resource.Id) + 1);
                }

                return;
            }
        }

        static FieldInfo[] Fields(Type type)
        {
            var fields = new List<FieldInfo>();
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                fields.AddRange(t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly).Where(f => !f.FieldType.IsValueType));
            }

            return [.. fields];
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, FieldInfo[]> ReleaserFields = new();

    private static void Settle(Session session, Acquiring a, bool completed, bool succeeded, Task? task)
    {
        if (!completed)
        {
            session.PendingAsyncWait(a.Task, a.Resource, a.Site, task);
        }
        else if (succeeded)
        {
            session.Emit(EventKind.Acquire, a.Task, a.Resource, a.Site, Math.Max(0, Free(session, a.Resource) - 1));
        }
        else
        {
            session.Emit(task is { IsCanceled: true } ? EventKind.Cancelled : EventKind.TimedOut, a.Task, a.Resource, a.Site, Free(session, a.Resource));
        }
    }

    private static int Free(Session session, int resource) =>
        session.State.Resources.TryGetValue(resource, out var state) ? state.Count : session.Log.Resource(resource).Initial;

    private static ResourceInfo Observe(Session session, object instance, int permits, string site, string? hint)
    {
        if (session.Resources.TryGet(instance, out var info))
        {
            return info;
        }

        var initial = permits > 0 ? permits : CurrentCount(instance);
        return session.Resources.Observe(instance, ResourceKind.Semaphore, site, hint, initial, permits > 0 ? permits : int.MaxValue);
    }

    private static int CurrentCount(object instance)
    {
        var property = instance.GetType().GetProperty("CurrentCount", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        return property?.GetValue(instance) switch
        {
            int i => i,
            long l => (int)Math.Min(int.MaxValue, l),
            _ => 1,
        };
    }

    private sealed record Acquiring(object Instance, int Resource, int Task, SourceSite? Site);

    /// <summary>How to tell whether a value an acquire method returned stands for a permit taken, refused or still awaited.</summary>
    private static class Awaitable<T>
    {
        private static readonly Func<T, (bool Completed, bool Succeeded, Task? Task)> Inspector = Build();

        public static (bool Completed, bool Succeeded, Task? Task) Inspect(T value) => Inspector(value);

        private static Func<T, (bool, bool, Task?)> Build()
        {
            var type = typeof(T);
            if (typeof(Task).IsAssignableFrom(type))
            {
                return value => OfTask(value as Task);
            }

            if (type == typeof(bool))
            {
                return value => (true, value is true, null);
            }

            // A struct that wraps a task (Nito's AwaitableDisposable<T>): its task decides.
            var field = type.IsValueType
                ? type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).FirstOrDefault(f => typeof(Task).IsAssignableFrom(f.FieldType))
                : null;
            if (field is not null)
            {
                return value => OfTask(field.GetValue(value) as Task);
            }

            // ValueTask, ValueTask<T> and other awaitables with IsCompleted: a pending one is taken to succeed when it resumes.
            var isCompleted = type.GetProperty("IsCompleted", BindingFlags.Instance | BindingFlags.Public);
            var succeeded = type.GetProperty("IsCompletedSuccessfully", BindingFlags.Instance | BindingFlags.Public);
            if (isCompleted?.PropertyType == typeof(bool))
            {
                return value => isCompleted.GetValue(value) is true
                    ? (true, succeeded is null || succeeded.GetValue(value) is true, null)
                    : (false, true, null);
            }

            // A disposable key or anything else returned synchronously: the permit was taken.
            return _ => (true, true, null);
        }

        private static (bool, bool, Task?) OfTask(Task? task) => task switch
        {
            null => (true, true, null),
            { IsCompleted: false } => (false, true, task),
            { IsCompletedSuccessfully: true } => (true, task is not Task<bool> b || b.Result, task),
            _ => (true, false, task),
        };
    }
}
