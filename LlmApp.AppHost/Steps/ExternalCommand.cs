using System.Diagnostics;
using LlmApp.Models;

namespace LlmApp.AppHost.Steps;

/// <summary>
/// Runs one step of set-up (npm, git, cmake) with its output appended to a log file, so that a failure
/// can be reported as one line that names the step and points at the log.
/// </summary>
public static class ExternalCommand
{
    public static async Task RunAsync(
        string step, string fileName, IEnumerable<string> arguments, string workingDirectory, string logFile,
        Action<string>? onOutputLine = null, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        await using var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        await log.WriteLineAsync($"$ {fileName} {string.Join(' ', startInfo.ArgumentList)}");

        using var process = new Process { StartInfo = startInfo };
        var gate = new Lock();
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                log.WriteLine(line);
            }

            onOutputLine?.Invoke(line);
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);

        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or FileNotFoundException)
        {
            throw new SetupException($"{step} failed: '{fileName}' could not be started ({ex.Message}); install it and try again.", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new SetupException($"{step} failed ('{fileName}' exited with {process.ExitCode}); see {logFile}.");
        }
    }
}
