namespace LlmApp.Tests.Infrastructure;

/// <summary>Runs the AppHost's publish-compose step, as the README says, into a fresh folder.</summary>
public static class ComposeGeneration
{
    public static async Task<string> GenerateAsync(
        IEnumerable<string>? settings = null, IDictionary<string, string>? environment = null, string? outputDirectory = null)
    {
        var output = outputDirectory ?? TestPaths.NewScratchDirectory();
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost",
            ["--operation", "publish", "--step", "publish-compose", "--output-path", output, .. settings ?? []], environment);
        Assert.True(result.ExitCode == 0, $"publish-compose failed ({result.ExitCode}):\n{result.Output}");
        return output;
    }
}
