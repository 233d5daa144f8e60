using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Sdk;

/// <summary>The official Node SDKs, OpenAI's (npm <c>openai</c>) and Anthropic's (npm <c>@anthropic-ai/sdk</c>), run by the machine's Node against the gateway.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class NodeSdkTests(GatewayAppFixture fixture)
{
    [Fact]
    public async Task TheNodeSdkSuitePassesAgainstTheGateway() => await NodeSdk.RunAsync("sdk.test.mjs", fixture.GatewayBaseAddress);

    [Fact]
    public async Task TheNodeSdkResponsesSuitePassesAgainstTheResponsesApi() => await NodeSdk.RunAsync("responses.test.mjs", fixture.GatewayBaseAddress);

    [Fact]
    public async Task TheAnthropicNodeSdkSuitePassesAgainstTheMessagesApi() => await NodeSdk.RunAsync("messages.test.mjs", fixture.GatewayBaseAddress);
}
