using System.Diagnostics;

namespace LlmApp.Tests.Infrastructure;

/// <summary>Runs the built AppHost as a user would (<c>dotnet LlmApp.AppHost.dll ...</c>) and captures what it prints.</summary>
public static class AppHostProcess
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Result> RunAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(AppHostAssembly())!,
        };
        startInfo.ArgumentList.Add(AppHostAssembly());
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The AppHost did not exit; it printed: {await stdout}{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";

    private static string AppHostAssembly()
    {
        // The test's own output folder is LlmApp.Tests/bin/<Configuration>/<tfm>/; the AppHost builds beside it.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(TestPaths.RepositoryRoot, "LlmApp.AppHost", "bin", testOutput.Parent!.Name, testOutput.Name, "LlmApp.AppHost.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"The AppHost is not built at {path}.");
    }
}
