using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Sdk;

/// <summary>The official OpenAI Node SDK (npm <c>openai</c>), run by the machine's Node against the gateway.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class NodeSdkTests(GatewayAppFixture fixture)
{
    private static readonly string s_directory = Path.Combine(TestPaths.RepositoryRoot, "LlmApp.Tests", "NodeSdk");

    [Fact]
    public async Task TheNodeSdkSuitePassesAgainstTheGateway()
    {
        if (!Directory.Exists(Path.Combine(s_directory, "node_modules", "openai")))
        {
            var install = await CommandRunner.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], s_directory, timeout: TimeSpan.FromMinutes(5));
            Assert.True(install.ExitCode == 0, $"npm ci failed:\n{install.Output}");
        }

        var run = await CommandRunner.RunAsync("node", ["--test", "--test-reporter=tap", "sdk.test.mjs"], s_directory,
            new Dictionary<string, string>
            {
                ["LLMAPP_BASE_URL"] = new Uri(fixture.GatewayBaseAddress, "v1").ToString(),
                ["LLMAPP_MODEL"] = GatewayAppFixture.ServedModel,
            });

        Assert.True(run.ExitCode == 0, $"node --test failed:\n{run.Output}");
        Assert.Contains("# fail 0", run.Output, StringComparison.Ordinal);
    }
}
