using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Authentication;

/// <summary>
/// The Messages API under the same keys as the chat API: sent as Anthropic's clients send them (<c>x-api-key</c>, or
/// Bearer as the Anthropic .NET SDK 13 does), refused in Anthropic's error shape.
/// </summary>
[Collection(ApiKeyAppCollectionDefinition.Name)]
public sealed class AnthropicKeyTests(ApiKeyAppFixture fixture)
{
    private const string Body = """{"model":"MODEL","max_tokens":4,"messages":[{"role":"user","content":"Hi"}]}""";

    [Fact]
    public async Task TheSameKeyWorksAsXApiKey()
    {
        using var response = await PostAsync(("x-api-key", fixture.DefaultKey), ("anthropic-version", "2023-06-01"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("message", message.RootElement.GetProperty("type").GetString());
        // The request's id under Anthropic's header name too, which its SDKs read.
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), response.Headers.GetValues("request-id").Single());
    }

    [Theory]
    [InlineData("x-api-key", "sk-wrong-0123456789abcdef0123456789")]
    [InlineData(null, null)]
    public async Task AWrongOrMissingKeyIsAnthropicsAuthenticationError(string? header, string? key)
    {
        using var response = header is null ? await PostAsync() : await PostAsync((header, key!));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal("authentication_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task TheAnthropicSdkWithTheKeyIsServedAndWithoutItRefused()
    {
        var address = fixture.GatewayBaseAddress.ToString().TrimEnd('/');
        var parameters = new MessageCreateParams { Model = GatewayAppFixture.ServedModel, MaxTokens = 4, Messages = [new UserMessageParam("Hi")] };

        var message = await new AnthropicClient { ApiKey = fixture.DefaultKey, BaseUrl = address, MaxRetries = 0 }.Messages.Create(parameters);
        await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() =>
            new AnthropicClient { ApiKey = "sk-wrong-0123456789abcdef0123456789", BaseUrl = address, MaxRetries = 0 }.Messages.Create(parameters));

        Assert.Equal(4, message.Usage.OutputTokens);
    }

    /// <summary>
    /// The key's requests a minute hold on every API: a Messages request and a Responses request take its two, and the
    /// next of either is refused with 429 and Retry-After, in each API's own error shape.
    /// </summary>
    [Fact]
    public async Task AKeysRequestsPerMinuteCountAcrossTheMessagesAndResponsesApis()
    {
        var messages = Body.Replace("MODEL", GatewayAppFixture.ServedModel, StringComparison.Ordinal);
        var responses = $$"""{"model":"{{GatewayAppFixture.ServedModel}}","input":"Hi","max_output_tokens":4}""";
        using (var first = await SendAsync("/v1/messages", messages, fixture.OtherApisKey))
        using (var second = await SendAsync("/v1/responses", responses, fixture.OtherApisKey))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        using var anthropic = await SendAsync("/v1/messages", messages, fixture.OtherApisKey);
        using var openai = await SendAsync("/v1/responses", responses, fixture.OtherApisKey);

        Assert.Equal(HttpStatusCode.TooManyRequests, anthropic.StatusCode);
        Assert.NotNull(anthropic.Headers.RetryAfter);
        using (var error = JsonDocument.Parse(await anthropic.Content.ReadAsStringAsync()))
        {
            Assert.Equal("rate_limit_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, openai.StatusCode);
        using (var error = JsonDocument.Parse(await openai.Content.ReadAsStringAsync()))
        {
            Assert.Equal("rate_limit_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
    }

    /// <summary>The Anthropic Node SDK's suite, with the key (the SDK sends it as it sends it to Anthropic).</summary>
    [Fact]
    public async Task TheAnthropicNodeSdkSuitePassesWithTheKey() =>
        await NodeSdk.RunAsync("messages.test.mjs", fixture.GatewayBaseAddress, new Dictionary<string, string> { ["LLMAPP_API_KEY"] = fixture.DefaultKey });

    private async Task<HttpResponseMessage> SendAsync(string path, string json, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key);
        return await fixture.Gateway.SendAsync(request);
    }

    private async Task<HttpResponseMessage> PostAsync(params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent(Body.Replace("MODEL", GatewayAppFixture.ServedModel, StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await fixture.Gateway.SendAsync(request);
    }
}
