namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Runs a test file of <c>LlmApp.Tests/NodeSdk</c> with the official Node SDKs (npm <c>openai</c> and
/// <c>@anthropic-ai/sdk</c>), installing them first if needed.
/// </summary>
public static class NodeSdk
{
    private static readonly string s_directory = Path.Combine(TestPaths.RepositoryRoot, "LlmApp.Tests", "NodeSdk");

    public static async Task RunAsync(string testFile, Uri gateway, IDictionary<string, string>? environment = null)
    {
        if (!Directory.Exists(Path.Combine(s_directory, "node_modules", "openai")) || !Directory.Exists(Path.Combine(s_directory, "node_modules", "@anthropic-ai", "sdk")))
        {
            var install = await CommandRunner.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], s_directory, timeout: TimeSpan.FromMinutes(5));
            Assert.True(install.ExitCode == 0, $"npm ci failed:\n{install.Output}");
        }

        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["LLMAPP_BASE_URL"] = new Uri(gateway, "v1").ToString(),
            ["LLMAPP_MODEL"] = GatewayAppFixture.ServedModel,
            ["LLMAPP_EMBEDDING_MODEL"] = GatewayAppFixture.EmbeddingModel,
        };
        var run = await CommandRunner.RunAsync("node", ["--test", "--test-reporter=tap", testFile], s_directory, variables);

        Assert.True(run.ExitCode == 0, $"node --test {testFile} failed:\n{run.Output}");
        Assert.Contains("# fail 0", run.Output, StringComparison.Ordinal);
    }
}
