using System.Runtime.InteropServices;

namespace LlmApp.Bench.Measurement;

/// <summary>
/// Another process's CPU clock on Linux: the time its threads have run, the exited ones included, as the scheduler
/// accounts it (in nanoseconds, where <c>/proc/&lt;pid&gt;/stat</c> counts clock ticks of 10 ms).
/// </summary>
internal static partial class ProcessClock
{
    public static TimeSpan Read(int pid)
    {
        if (clock_getcpuclockid(pid, out var clock) != 0 || clock_gettime(clock, out var time) != 0)
        {
            throw new MeasurementException($"process {pid} (--pid) exited during the run, so its CPU time cannot be measured.");
        }

        return ToTimeSpan(time);
    }

    /// <summary>The clock's resolution in nanoseconds (finer than a <see cref="TimeSpan"/>'s 100 ns tick); 0 when it cannot be read.</summary>
    public static long ResolutionNanoseconds(int pid) =>
        clock_getcpuclockid(pid, out var clock) == 0 && clock_getres(clock, out var resolution) == 0
            ? (resolution.Seconds * 1_000_000_000) + resolution.Nanoseconds
            : 0;

    private static TimeSpan ToTimeSpan(Timespec time) => TimeSpan.FromTicks((time.Seconds * TimeSpan.TicksPerSecond) + (time.Nanoseconds / 100));

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_getcpuclockid(int pid, out int clock);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_gettime(int clock, out Timespec time);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_getres(int clock, out Timespec resolution);
}
