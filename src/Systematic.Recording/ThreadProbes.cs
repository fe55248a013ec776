using System.ComponentModel;
using System.Runtime.CompilerServices;
using ControlledThread = Microsoft.Coyote.Rewriting.Types.Threading.Thread;

namespace Systematic.Recording;

/// <summary>
/// Recording stand-ins for Coyote's controlled <see cref="Thread"/>: a thread's body is a task of its own from
/// <c>Start</c> on, named by its entry method, and <c>Join</c> records who waits for it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ThreadProbes
{
    private static readonly ConditionalWeakTable<Thread, Body> Bodies = [];

    /// <summary>Creates a thread.</summary>
    public static Thread Create(ThreadStart start, string site) => Create(start, 0, site);

    /// <summary>Creates a thread with a maximum stack size.</summary>
    public static Thread Create(ThreadStart start, int maxStackSize, string site)
    {
        if (Recorder.Live is null)
        {
            return ControlledThread.Create(start, maxStackSize);
        }

        var body = new Body(TaskProbes.EntryName(start));
        var thread = ControlledThread.Create(() => body.Run(_ => start(), null), maxStackSize);
        Bodies.AddOrUpdate(thread, body);
        return thread;
    }

    /// <summary>Creates a thread that takes a parameter.</summary>
    public static Thread Create(ParameterizedThreadStart start, string site) => Create(start, 0, site);

    /// <summary>Creates a thread that takes a parameter, with a maximum stack size.</summary>
    public static Thread Create(ParameterizedThreadStart start, int maxStackSize, string site)
    {
        if (Recorder.Live is null)
        {
            return ControlledThread.Create(start, maxStackSize);
        }

        var body = new Body(TaskProbes.EntryName(start));
        var thread = ControlledThread.Create(parameter => body.Run(p => start(p), parameter), maxStackSize);
        Bodies.AddOrUpdate(thread, body);
        return thread;
    }

    /// <summary>Starts a thread.</summary>
    public static void Start(Thread instance, string site)
    {
        Begin(instance, site);
        ControlledThread.Start(instance);
    }

    /// <summary>Starts a thread with a parameter.</summary>
    public static void Start(Thread instance, object? parameter, string site)
    {
        Begin(instance, site);
        ControlledThread.Start(instance, parameter!);
    }

    /// <summary>Blocks until the thread finishes.</summary>
    public static void Join(Thread instance, string site)
    {
        Awaiting(instance, site);
        ControlledThread.Join(instance);
    }

    /// <summary>Blocks until the thread finishes or the timeout passes.</summary>
    public static bool Join(Thread instance, int millisecondsTimeout, string site)
    {
        Awaiting(instance, site);
        return ControlledThread.Join(instance, millisecondsTimeout);
    }

    /// <summary>Blocks until the thread finishes or the timeout passes.</summary>
    public static bool Join(Thread instance, TimeSpan timeout, string site)
    {
        Awaiting(instance, site);
        return ControlledThread.Join(instance, timeout);
    }

    private static void Begin(Thread instance, string site)
    {
        if (Recorder.Live is { } session && Bodies.TryGetValue(instance, out var body) && body.Id == 0)
        {
            body.Id = session.Tasks.Start(body.Entry, site, false).Id;
        }
    }

    private static void Awaiting(Thread instance, string site)
    {
        if (Recorder.Live is { } session && Bodies.TryGetValue(instance, out var body) && body.Id > 0 &&
            !(session.State.Tasks.TryGetValue(body.Id, out var state) && state.Ended))
        {
            session.Emit(EventKind.Await, Recorder.CurrentTask, 0, site, awaited: [body.Id]);
        }
    }

    private sealed class Body(string entry)
    {
        public string Entry { get; } = entry;

        public int Id { get; set; }

        public void Run(Action<object?> action, object? parameter)
        {
            if (this.Id == 0)
            {
                action(parameter);
                return;
            }

            TaskProbes.RunAs(this.Id, () => action(parameter));
        }
    }
}
