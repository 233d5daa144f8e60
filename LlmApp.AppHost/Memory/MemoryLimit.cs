using System.Globalization;

namespace LlmApp.AppHost.Memory;

/// <summary>
/// The memory a model must fit in, and how the error line names it: "this machine's 3.76 GiB", or "the llm service's
/// memory limit of 3.00 GiB (Llm:Compose:LlmMemoryMiB)".
/// </summary>
public sealed record MemoryLimit(long Bytes, string Description)
{
    /// <summary>A limit set by a setting in MiB, e.g. <c>FromSetting(3072, "the llm service", "Llm:Compose:LlmMemoryMiB")</c>.</summary>
    public static MemoryLimit FromSetting(int mebibytes, string what, string setting)
    {
        var bytes = (long)mebibytes << 20;
        return new(bytes, $"{what}'s memory limit of {MemoryEstimate.Gib(bytes)} ({setting})");
    }

    /// <summary>
    /// This machine's physical memory, or the memory limit of the container (cgroup) the AppHost runs in when that is
    /// lower: llama-server starts in the same one. Null when neither can be read.
    /// </summary>
    public static MemoryLimit? OfThisMachine() => OfThisMachine(OperatingSystem.IsLinux(), ReadLines);

    /// <summary>
    /// <see cref="OfThisMachine()"/> with the files it reads (<c>/proc/meminfo</c>, <c>/proc/self/cgroup</c> and the
    /// cgroup's limits) read by <paramref name="readLines"/>, which gives no lines for a file that is not there.
    /// </summary>
    internal static MemoryLimit? OfThisMachine(bool linux, Func<string, string[]> readLines)
    {
        // The GC knows the physical memory on every OS (hw.memsize on macOS); on Linux it may report a container's
        // default heap limit (75% of the cgroup's) instead, so Linux reads the kernel's numbers itself.
        var physical = linux && MemTotal(readLines) is { } total ? total : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (physical <= 0)
        {
            return null;
        }

        return linux && CgroupLimit(readLines) is { } limit && limit < physical
            ? new(limit, $"this container's memory limit of {MemoryEstimate.Gib(limit)} (cgroup)")
            : new(physical, $"this machine's {MemoryEstimate.Gib(physical)}");
    }

    /// <summary>MemTotal of /proc/meminfo, in bytes.</summary>
    private static long? MemTotal(Func<string, string[]> readLines)
    {
        var line = readLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = line?["MemTotal:".Length..].Trim().Split(' ')[0];
        return long.TryParse(kib, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value * 1024 : null;
    }

    /// <summary>
    /// The lowest memory limit on the way from this process's cgroup up to the root, v2 (memory.max) or v1
    /// (memory.limit_in_bytes), at the usual mount points. "max", or v1's huge "unlimited" number, is no limit.
    /// </summary>
    private static long? CgroupLimit(Func<string, string[]> readLines)
    {
        long? lowest = null;
        foreach (var line in readLines("/proc/self/cgroup"))
        {
            // "0::/path" (v2) or "4:memory:/path" (v1).
            var fields = line.Split(':', 3);
            var (root, file) = fields switch
            {
                [_, "", _] => ("/sys/fs/cgroup", "memory.max"),
                [_, var controllers, _] when controllers.Split(',').Contains("memory") => ("/sys/fs/cgroup/memory", "memory.limit_in_bytes"),
                _ => (null, null),
            };
            if (root is null || file is null)
            {
                continue;
            }

            // Inside a container with its own cgroup namespace the path is "/"; outside one it is the full path. Either
            // way, walking up finds the limits that apply.
            var path = fields[2].TrimEnd('/');
            while (true)
            {
                var text = readLines(Path.Combine(root, path.TrimStart('/'), file)).FirstOrDefault();
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value < long.MaxValue / 2)
                {
                    lowest = Math.Min(value, lowest ?? long.MaxValue);
                }

                if (path.Length == 0)
                {
                    break;
                }

                path = path[..Math.Max(0, path.LastIndexOf('/'))];
            }
        }

        return lowest;
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
