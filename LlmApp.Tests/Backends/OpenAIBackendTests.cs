using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI.Chat;

namespace LlmApp.Tests.Backends;

/// <summary>
/// The <c>openai</c> backend kind, which the gateway uses in front of vLLM, end to end against a real llama-server with
/// <c>--jinja</c>, driven by the official .NET SDK: tools and tool results reach the backend as the client sent them
/// (not emulated with a grammar), capacity comes from settings (never from <c>/props</c> or <c>/slots</c>), and the
/// backend's own refusals reach the client as OpenAI errors.
/// </summary>
[Collection(OpenAIBackendCollectionDefinition.Name)]
public sealed class OpenAIBackendTests(OpenAIBackendFixture fixture)
{
    private const string WeatherParameters = """{"type":"object","properties":{"unit":{"type":"string","enum":["c","f"]}},"required":["unit"]}""";

    private static readonly ChatTool s_weather = ChatTool.CreateFunctionTool("get_weather", "The weather where the user is.", BinaryData.FromString(WeatherParameters));

    [Fact]
    public async Task ToolsReachTheBackendAsTheClientSentThem()
    {
        var mark = fixture.Relay.Mark();
        var options = new ChatCompletionOptions { Tools = { s_weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), MaxOutputTokenCount = 8, Temperature = 0 };

        ChatCompletion completion = await fixture.CreateChatClient().CompleteChatAsync([new UserChatMessage("Go on")], options);

        // The tiny test model's chat template (ChatML) has no place for tools, so llama-server answers in text; vLLM with
        // Llama 3.1's tool template and parser would answer with the call. What matters here is what the backend got.
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        using var sent = JsonDocument.Parse(fixture.Relay.RequestBody("/v1/chat/completions", mark));
        var root = sent.RootElement;
        var tool = Assert.Single(root.GetProperty("tools").EnumerateArray());
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("The weather where the user is.", tool.GetProperty("function").GetProperty("description").GetString());
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(WeatherParameters).RootElement, tool.GetProperty("function").GetProperty("parameters")),
            $"parameters changed on the way: {tool.GetProperty("function").GetProperty("parameters")}");
        Assert.Equal("required", root.GetProperty("tool_choice").GetString());
        // Not the emulation the gateway does for llama-server without --jinja: no grammar, no JSON schema of its own.
        Assert.False(root.TryGetProperty("json_schema", out _), "the gateway constrained the output itself");
        Assert.False(root.TryGetProperty("grammar", out _), "the gateway constrained the output itself");
        Assert.False(root.TryGetProperty("response_format", out _), "the gateway constrained the output itself");
        // llama-server's own extension stays off for a server that is not llama-server.
        Assert.False(root.TryGetProperty("cache_prompt", out _), "llama-server's cache_prompt sent to a generic backend");
    }

    [Fact]
    public async Task AToolResultReachesTheBackendAsTheToolMessageItIs()
    {
        var mark = fixture.Relay.Mark();
        var call = ChatToolCall.CreateFunctionToolCall("call_1", "get_weather", BinaryData.FromString("""{"unit":"c"}"""));
        var options = new ChatCompletionOptions { Tools = { s_weather }, MaxOutputTokenCount = 4, Temperature = 0 };

        ChatCompletion completion = await fixture.CreateChatClient().CompleteChatAsync(
            [new UserChatMessage("Go on"), new AssistantChatMessage([call]), new ToolChatMessage("call_1", "12 C and sunny")], options);

        Assert.NotNull(completion.Content);
        using var sent = JsonDocument.Parse(fixture.Relay.RequestBody("/v1/chat/completions", mark));
        var messages = sent.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "tool"], messages.Select(m => m.GetProperty("role").GetString()));
        var sentCall = Assert.Single(messages[1].GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("call_1", sentCall.GetProperty("id").GetString());
        Assert.Equal("get_weather", sentCall.GetProperty("function").GetProperty("name").GetString());
        using var arguments = JsonDocument.Parse(sentCall.GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal("c", arguments.RootElement.GetProperty("unit").GetString());
        Assert.Equal("call_1", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("12 C and sunny", messages[2].GetProperty("content").GetString());
    }

    [Fact]
    public async Task TheGatewayAsksTheBackendOnlyForHealthAndCompletions()
    {
        // Since the gateway started: its health probes and the tests' completions, nothing llama-server-only.
        using var _ = await fixture.Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            $$"""{"model":"{{OpenAIBackendFixture.ServedModel}}","messages":[{"role":"user","content":"Go on"}],"max_tokens":2,"temperature":0}""",
            Encoding.UTF8, "application/json"));
        var requestLines = fixture.Relay.Sent.Split("\r\n")
            .Where(line => line.StartsWith("GET ", StringComparison.Ordinal) || line.StartsWith("POST ", StringComparison.Ordinal))
            .Select(line => line[..line.LastIndexOf(' ')])
            .Distinct()
            .Order()
            .ToList();

        // (And vLLM's /tokenize, which count_tokens asks, when a test here has asked it.)
        Assert.Equal(["GET /health", "POST /v1/chat/completions"], requestLines.Where(line => line != "POST /tokenize"));
    }

    [Fact]
    public async Task CountTokensAsksTheBackendsTokenizeForTheChatAndSaysSoWhenItCannotCount()
    {
        // vLLM's /tokenize takes the chat and answers its count; llama-server's, standing in for vLLM here, counts only
        // text and answers none for a chat, which the client is told in one line rather than given a wrong count.
        var mark = fixture.Relay.Mark();
        using var response = await fixture.Gateway.Client.PostAsync("/v1/messages/count_tokens", new StringContent(
            $$"""{"model":"{{OpenAIBackendFixture.ServedModel}}","messages":[{"role":"user","content":"Count me"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal("count_tokens needs a backend that counts a chat's tokens: llama.cpp, or vLLM's /tokenize; this one does not.",
            error.RootElement.GetProperty("error").GetProperty("message").GetString());
        using var sent = JsonDocument.Parse(fixture.Relay.RequestBody("/tokenize", mark));
        Assert.Equal("Count me", sent.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task APromptBeyondTheContextIsTheBackendsRefusalAsAnOpenAIError()
    {
        // No token count of its own in front of a generic backend: the backend refuses, and the client gets its words
        // as OpenAI's context_length_exceeded (vLLM says it in its message, llama-server by type).
        var longPrompt = string.Join(' ', Enumerable.Repeat("the weather in Oslo tomorrow", 4 * OpenAIBackendFixture.ContextPerSlot / 5));
        var body = JsonSerializer.Serialize(new
        {
            model = OpenAIBackendFixture.ServedModel,
            messages = new[] { new { role = "user", content = longPrompt } },
            max_tokens = 4,
        });

        using var response = await fixture.Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("context_length_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        var sdk = await Assert.ThrowsAsync<ClientResultException>(() =>
            fixture.CreateChatClient().CompleteChatAsync([new UserChatMessage(longPrompt)], new ChatCompletionOptions { MaxOutputTokenCount = 4 }));
        Assert.Equal(400, sdk.Status);
    }

    [Fact]
    public async Task AStreamFromTheBackendReachesTheClientWithItsFinishReasonAndUsage()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;

        await foreach (var update in fixture.CreateChatClient().CompleteChatStreamingAsync([new UserChatMessage("Go on")], options))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(12, usage.OutputTokenCount);
        Assert.NotEqual(0, text.Length);
    }
}

[CollectionDefinition(Name)]
public sealed class OpenAIBackendCollectionDefinition : ICollectionFixture<OpenAIBackendFixture>
{
    public const string Name = "openai backend";
}
