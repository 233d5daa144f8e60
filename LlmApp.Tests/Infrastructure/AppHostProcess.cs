namespace LlmApp.Tests.Infrastructure;

/// <summary>Runs the built AppHost as a user would (<c>dotnet LlmApp.AppHost.dll ...</c>) and captures what it prints.</summary>
public static class AppHostProcess
{
    public static Task<CommandRunner.Result> RunAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null) =>
        CommandRunner.RunAsync(DotnetHost(), [AppHostAssembly(), .. arguments], Path.GetDirectoryName(AppHostAssembly())!, environment,
            TimeSpan.FromMinutes(1));

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
