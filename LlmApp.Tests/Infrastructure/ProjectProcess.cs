namespace LlmApp.Tests.Infrastructure;

/// <summary>Runs a built project of the solution as a user would (<c>dotnet LlmApp.AppHost.dll ...</c>) and captures what it prints.</summary>
public static class ProjectProcess
{
    public static Task<CommandRunner.Result> RunAsync(string project, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var assembly = Assembly(project);
        return CommandRunner.RunAsync(DotnetHost(), [assembly, .. arguments], Path.GetDirectoryName(assembly)!, environment, TimeSpan.FromMinutes(1));
    }

    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";

    public static string Assembly(string project)
    {
        // The test's own output folder is LlmApp.Tests/bin/<Configuration>/<tfm>/; the other projects build beside it.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(TestPaths.RepositoryRoot, project, "bin", testOutput.Parent!.Name, testOutput.Name, $"{project}.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{project} is not built at {path}.");
    }
}
