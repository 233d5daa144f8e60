using System.Diagnostics;

namespace LlmApp.Bench.Measurement;

/// <summary>
/// CPU time (user and system, all threads, those that have exited included) of a group of processes. On Linux it is
/// read from each process's CPU clock (<c>clock_gettime</c> on <c>clock_getcpuclockid</c>), which the scheduler keeps in
/// nanoseconds; elsewhere from <see cref="Process.TotalProcessorTime"/>, which Linux would give in clock ticks.
/// </summary>
internal sealed class ProcessCpu
{
    public ProcessCpu(IReadOnlyList<int> pids)
    {
        foreach (var pid in pids.Where(pid => !IsRunning(pid)))
        {
            throw new FormatException($"--pid: no process {pid} is running.");
        }

        Pids = pids;
    }

    public IReadOnlyList<int> Pids { get; }

    /// <summary>How CPU time is read here, and its resolution, for the report.</summary>
    public static string Clock { get; } = DescribeClock();

    /// <summary>The processes' CPU time so far; a process that has exited ends the run, since its figures would be wrong.</summary>
    public TimeSpan Read()
    {
        var total = TimeSpan.Zero;
        foreach (var pid in Pids)
        {
            total += OperatingSystem.IsLinux() ? ProcessClock.Read(pid) : TotalProcessorTime(pid);
        }

        return total;
    }

    private static TimeSpan TotalProcessorTime(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            throw new MeasurementException($"process {pid} (--pid) exited during the run, so its CPU time cannot be measured.");
        }
    }

    private static string DescribeClock()
    {
        if (OperatingSystem.IsLinux())
        {
            return $"each process's CPU clock (clock_gettime), resolution {ProcessClock.ResolutionNanoseconds(Environment.ProcessId)} ns";
        }

        return "Process.TotalProcessorTime";
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The processes' resident-set high-water mark (VmHWM), in MiB.</summary>
    public double PeakResidentMiB() =>
        Pids.Sum(pid => File.ReadLines($"/proc/{pid}/status")
            .Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024)
            .FirstOrDefault());
}

/// <summary>A measurement that cannot go on; its message is the one line the user sees.</summary>
internal sealed class MeasurementException(string message) : Exception(message);
