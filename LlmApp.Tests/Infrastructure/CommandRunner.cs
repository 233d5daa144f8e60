using System.Diagnostics;

namespace LlmApp.Tests.Infrastructure;

/// <summary>Runs a command line tool (npm, node) for a test and captures all it prints.</summary>
public static class CommandRunner
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => StandardOutput + StandardError;
    }

    public static async Task<Result> RunAsync(
        string fileName, IEnumerable<string> arguments, string workingDirectory,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? standardInput = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return new Result(-1, await stdout, $"timed out after {timeout ?? TimeSpan.FromMinutes(2)}\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
