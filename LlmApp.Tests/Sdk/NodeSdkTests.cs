using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Sdk;

/// <summary>The official OpenAI Node SDK (npm <c>openai</c>), run by the machine's Node against the gateway.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class NodeSdkTests(GatewayAppFixture fixture)
{
    [Fact]
    public async Task TheNodeSdkSuitePassesAgainstTheGateway() => await NodeSdk.RunAsync("sdk.test.mjs", fixture.GatewayBaseAddress);
}
