using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI.Chat;

namespace LlmApp.Tests.EndToEnd;

[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class ChatCompletionsEndToEndTests(GatewayAppFixture fixture)
{
    [Fact]
    public async Task OpenAISdkGetsACompletionFromLlamaServerThroughTheGateway()
    {
        var client = fixture.CreateChatClient();

        var completion = (await client.CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Say hello.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 })).Value;

        Assert.Equal(GatewayAppFixture.ServedModel, completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.NotEmpty(completion.Content);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 12);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl", completion.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxTokensBoundsTheAnswerAndReportsLength()
    {
        var client = fixture.CreateChatClient();

        var completion = (await client.CompleteChatAsync(
            [new UserChatMessage("Count to one hundred.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 3, Temperature = 0 })).Value;

        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
    }

    [Fact]
    public async Task ModelsListTheServedAliasNotAFilePath()
    {
        using var response = await fixture.Gateway.GetAsync("/v1/models");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("list", body.RootElement.GetProperty("object").GetString());
        var models = body.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([GatewayAppFixture.ServedModel, GatewayAppFixture.EmbeddingModel], models.Select(m => m.GetProperty("id").GetString()));
        Assert.All(models, m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task LivenessAndReadinessAreHealthyWhileTheBackendServes()
    {
        using var live = await fixture.Gateway.GetAsync("/healthz");
        using var ready = await fixture.Gateway.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task AModelThatIsNotServedGets404ModelNotFound()
    {
        var (status, error) = await PostAsync("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("""{"model":"llama-2-tiny-random","messages":[]}""", "messages")]
    [InlineData("""{"model":"llama-2-tiny-random"}""", "messages")]
    [InlineData("""{"model":"llama-2-tiny-random","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"llama-2-tiny-random","messages":[{"role":"user","content":"hi"}],"temperature":3}""", "temperature")]
    [InlineData("""{"model":"llama-2-tiny-random","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    public async Task InvalidRequestsGet400WithAnOpenAIErrorObject(string body, string? param)
    {
        var (status, error) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.True(error.TryGetProperty("code", out var code) && code.ValueKind is JsonValueKind.String or JsonValueKind.Null);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APromptLongerThanTheContextGets400ContextLengthExceeded(bool stream)
    {
        var words = string.Concat(Enumerable.Repeat("word ", 9000));

        var (status, error) = await PostAsync(
            $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"{{words}}"}],"max_tokens":4,"stream":{{(stream ? "true" : "false")}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("exceeds the available context size", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownRouteGets404InOpenAIShape()
    {
        using var response = await fixture.Gateway.GetAsync("/v1/nothing-here");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("invalid_request_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task AnswersAndErrorsCarryTextAsRawUtf8AsOpenAISendsIt()
    {
        // A model id in Cyrillic comes back in the error's message; a quote in it stays a quote.
        using var refused = new StringContent("""{"model":"модель","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
        using var refusal = await fixture.Gateway.PostAsync("/v1/chat/completions", refused);
        using var answered = new StringContent(
            $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"Go on"}],"max_tokens":8,"temperature":0}""",
            Encoding.UTF8, "application/json");
        using var answer = await fixture.Gateway.PostAsync("/v1/chat/completions", answered);

        var refusalText = await refusal.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, refusal.StatusCode);
        Assert.Contains("The model 'модель' does not exist", refusalText, StringComparison.Ordinal);
        var answerText = await answer.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var content = JsonDocument.Parse(answerText).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        // Whatever the model said, it is in the body as it was said, with only JSON's own characters escaped.
        Assert.Contains(JsonEncodedText.Encode(content, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString(), answerText, StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", content);
        var text = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(text);
        return (response.StatusCode, body.RootElement.GetProperty("error").Clone());
    }
}
