using System.Diagnostics;

namespace LlmApp.Bench.Measurement;

/// <summary>CPU time (user and system, all threads) of a group of processes, read from /proc through <see cref="Process"/>.</summary>
internal sealed class ProcessCpu(IReadOnlyList<int> pids)
{
    public IReadOnlyList<int> Pids { get; } = pids;

    public TimeSpan Read()
    {
        var total = TimeSpan.Zero;
        foreach (var pid in Pids)
        {
            using var process = Process.GetProcessById(pid);
            total += process.TotalProcessorTime;
        }

        return total;
    }

    /// <summary>The processes' resident-set high-water mark (VmHWM), in MiB.</summary>
    public double PeakResidentMiB() =>
        Pids.Sum(pid => File.ReadLines($"/proc/{pid}/status")
            .Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024)
            .FirstOrDefault());
}
