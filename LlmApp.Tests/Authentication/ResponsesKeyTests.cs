#pragma warning disable OPENAI001 // The OpenAI SDK marks its Responses client experimental.
using System.ClientModel;
using System.ClientModel.Primitives;
using LlmApp.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using OpenAI.Responses;

namespace LlmApp.Tests.Authentication;

/// <summary>The Responses API under the same keys as the chat API, through the official clients that speak it.</summary>
[Collection(ApiKeyAppCollectionDefinition.Name)]
public sealed class ResponsesKeyTests(ApiKeyAppFixture fixture)
{
    private const string M = GatewayAppFixture.ServedModel;

    [Fact]
    public async Task TheResponsesClientAndMicrosoftExtensionsAIOverItAreServedWithTheKeyAndRefusedWithout()
    {
        var served = Client(fixture.DefaultKey);
        var refused = Client("sk-wrong-0123456789abcdef0123456789");

        ResponseResult response = await served.CreateResponseAsync(new CreateResponseOptions(M, [ResponseItem.CreateUserMessageItem("Hi")]) { MaxOutputTokenCount = 4 });
        var streamed = await served.AsIChatClient(M).GetStreamingResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 4 }).ToChatResponseAsync();
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            refused.CreateResponseAsync(new CreateResponseOptions(M, [ResponseItem.CreateUserMessageItem("Hi")]) { MaxOutputTokenCount = 4 }));

        Assert.Equal(4, response.Usage.OutputTokenCount);
        Assert.NotEmpty(streamed.Text);
        Assert.Equal(401, error.Status);
    }

    /// <summary>The OpenAI Node SDK's Responses suite, with the key.</summary>
    [Fact]
    public async Task TheNodeResponsesSuitePassesWithTheKey() =>
        await NodeSdk.RunAsync("responses.test.mjs", fixture.GatewayBaseAddress, new Dictionary<string, string> { ["LLMAPP_API_KEY"] = fixture.DefaultKey });

    private ResponsesClient Client(string key) => new(new ApiKeyCredential(key),
        new ResponsesClientOptions { Endpoint = new Uri(fixture.GatewayBaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });
}
