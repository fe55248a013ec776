using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Systematic.Harness;

/// <summary>
/// Pins a worker process to one CPU. A Coyote engine hands every step from one operation's thread to the next; left
/// to roam, those threads wake each other across cores, which costs more than the work between handovers. Pinned, one
/// worker runs faster on one core than unpinned on all of them, and N workers on N cores scale nearly linearly
/// (docs/benchmarks.md, "Workers"). See <see cref="Plan"/> for when workers are pinned.
/// </summary>
internal static class CpuAffinity
{
    // Large enough for 1,024 CPUs, the kernel's default cpu_set_t.
    private const int MaskWords = 16;

    /// <summary>Gets the CPUs this process may run on, in ascending order, or an empty list where that cannot be read.</summary>
    public static IReadOnlyList<int> Allowed()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                var mask = new ulong[MaskWords];
                return NativeMethods.sched_getaffinity(0, MaskWords * sizeof(ulong), mask) == 0 ? Cpus(mask) : [];
            }

            if (OperatingSystem.IsWindows())
            {
                using var self = Process.GetCurrentProcess();
                return Cpus([(ulong)self.ProcessorAffinity]);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException or InvalidOperationException)
        {
            // Fall through: not pinnable here.
        }

        return [];
    }

    /// <summary>
    /// Restricts every thread of this process, and so every thread it starts later, to <paramref name="cpu"/>. Returns
    /// false where the platform does not allow it (macOS) or the CPU is not available.
    /// </summary>
    public static bool PinCurrentProcess(int cpu)
    {
        if (cpu < 0 || cpu >= MaskWords * 64)
        {
            return false;
        }

        try
        {
            if (OperatingSystem.IsLinux())
            {
                // sched_setaffinity applies to one thread; a new thread inherits its creator's mask. Pin every thread
                // that exists, and look again until no new one appeared meanwhile.
                var mask = new ulong[MaskWords];
                mask[cpu / 64] = 1UL << (cpu % 64);
                var pinned = new HashSet<int>();
                for (var pass = 0; pass < 10; pass++)
                {
                    var fresh = Threads().Where(pinned.Add).ToList();
                    if (fresh.Count == 0)
                    {
                        return pinned.Count > 0;
                    }

                    foreach (var tid in fresh)
                    {
                        if (NativeMethods.sched_setaffinity(tid, MaskWords * sizeof(ulong), mask) != 0 && tid == Environment.ProcessId)
                        {
                            return false;
                        }
                    }
                }

                return true;
            }

            if (OperatingSystem.IsWindows() && cpu < 64)
            {
                using var self = Process.GetCurrentProcess();
                self.ProcessorAffinity = (nint)(1L << cpu);
                return true;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Not pinnable here: the worker runs unpinned.
        }

        return false;
    }

    /// <summary>Gets the union of the CPUs the threads of this process may run on (on Linux, read per thread).</summary>
    public static IReadOnlyList<int> OfAllThreads()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Allowed();
        }

        var union = new ulong[MaskWords];
        foreach (var tid in Threads())
        {
            var mask = new ulong[MaskWords];
            if (NativeMethods.sched_getaffinity(tid, MaskWords * sizeof(ulong), mask) == 0)
            {
                for (var i = 0; i < MaskWords; i++)
                {
                    union[i] |= mask[i];
                }
            }
        }

        return Cpus(union);
    }

    /// <summary>
    /// Chooses the CPU of each of <paramref name="workers"/> concurrent workers: one worker per allowed CPU when there
    /// are as many workers as CPUs (the default), otherwise null (unpinned). Fewer workers stay unpinned because another
    /// run on the same machine would pin to the same first CPUs and leave the rest idle; with one worker per CPU, two
    /// runs still share every CPU evenly.
    /// </summary>
    public static IReadOnlyList<int>? Plan(int workers, IReadOnlyList<int> allowed) =>
        workers >= 2 && allowed.Count == workers ? allowed.ToList() : null;

    private static List<int> Threads()
    {
        try
        {
            return Directory.EnumerateDirectories("/proc/self/task")
                .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var tid) ? tid : -1)
                .Where(tid => tid > 0)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static List<int> Cpus(ulong[] mask)
    {
        var cpus = new List<int>();
        for (var i = 0; i < mask.Length * 64; i++)
        {
            if ((mask[i / 64] & (1UL << (i % 64))) != 0)
            {
                cpus.Add(i);
            }
        }

        return cpus;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int sched_setaffinity(int pid, nint cpusetsize, ulong[] mask);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int sched_getaffinity(int pid, nint cpusetsize, ulong[] mask);
    }
}
