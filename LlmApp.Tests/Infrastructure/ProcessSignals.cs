using System.Diagnostics;
using System.Globalization;

namespace LlmApp.Tests.Infrastructure;

/// <summary>POSIX signals to a test's processes: STOP holds a llama-server (it accepts connections and answers nothing), CONT lets it go on.</summary>
internal static class ProcessSignals
{
    public static void Send(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
