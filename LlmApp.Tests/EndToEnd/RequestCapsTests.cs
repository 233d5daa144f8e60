using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.EndToEnd;

/// <summary>
/// The caps on one request (the gateway's <c>Limits</c> section), against the real stack: each refusal is an OpenAI
/// error naming the cap, comes before the request takes a slot, and leaves the gateway serving.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class RequestCapsTests(GatewayAppFixture fixture, ITestOutputHelper output)
{
    private const string M = GatewayAppFixture.ServedModel;
    private const int DefaultBodyCap = 4 << 20;

    [Fact]
    public async Task ABodyDeclaredLargerThanTheCapIs413BeforeItIsRead()
    {
        // Expect: 100-continue, as curl sends for a large body: the refusal arrives before the body is sent. (Without it
        // a client is told the same, but the server closes the connection on the rest of the upload.)
        using var response = await PostExpectingContinueAsync("/v1/chat/completions", Chat(new string('a', DefaultBodyCap)));

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large", "Limits:MaxRequestBodyBytes");
    }

    [Fact]
    public async Task AChunkedBodyThatGrowsPastTheCapIs413()
    {
        // No Content-Length: Kestrel counts the bytes as they arrive and stops at the cap.
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Chat(new string('a', DefaultBodyCap)))));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await fixture.Gateway.SendAsync(request);

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large", "Limits:MaxRequestBodyBytes");
    }

    [Fact]
    public async Task AnEmbeddingsBodyOverTheCapIs413Too()
    {
        var body = $$"""{"model":"{{GatewayAppFixture.EmbeddingModel}}","input":"{{new string('a', DefaultBodyCap)}}"}""";

        using var response = await PostExpectingContinueAsync("/v1/embeddings", body);

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large", "Limits:MaxRequestBodyBytes");
    }

    [Fact]
    public async Task MoreMessagesThanTheCapAre400NamingIt()
    {
        var messages = string.Join(',', Enumerable.Repeat("""{"role":"user","content":"hi"}""", 1025));
        var body = $$"""{"model":"{{M}}","messages":[{{messages}}],"max_tokens":1}""";

        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "too_many_messages", "Limits:MaxMessages");
        Assert.Equal("messages", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task MorePromptCharactersThanTheCapAre400NamingIt()
    {
        // Split over a text part and a string message: both count.
        var half = new string('a', 500_001);
        var body = $$"""{"model":"{{M}}","messages":[{"role":"system","content":"{{half}}"},{"role":"user","content":[{"type":"text","text":"{{half}}"}]}],"max_tokens":1}""";

        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "prompt_too_long", "Limits:MaxPromptCharacters");
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("max_completion_tokens")]
    public async Task MaxTokensOverTheCeilingIs400NamingIt(string parameter)
    {
        var body = $$"""{"model":"{{M}}","messages":[{"role":"user","content":"hi"}],"{{parameter}}":{{GatewayAppFixture.MaxOutputTokens + 1}}}""";

        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "max_tokens_exceeded", "Limits:MaxOutputTokens");
        Assert.Equal(parameter, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task ABodyThatTricklesInIsCutOff()
    {
        // Slowloris: a declared body sent a byte a second, far below Kestrel's minimum rate of 240 bytes a second.
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.GatewayBaseAddress.Host, fixture.GatewayBaseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var sent = 0;
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await stream.WriteAsync("{"u8.ToArray());
                sent++;
                if (client.Available > 0 || !IsOpen(client))
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
        catch (IOException)
        {
            // The server closed the connection while we were still writing: that is the cut.
        }

        output.WriteLine($"cut off after {clock.Elapsed.TotalSeconds:F1} s and {sent} of 10000 body bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"a trickling body was still accepted after {clock.Elapsed}");
        Assert.True(sent < 10_000);

        // And the gateway serves the next caller.
        using var next = await fixture.Gateway.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task APromptOverTheContextIsRefusedBeforeItTakesASlot()
    {
        // Both slots busy with long answers: a request that needed a slot would wait for one.
        await using var first = await SseReader.OpenAsync(fixture.Gateway, Streamed(4000));
        await using var second = await SseReader.OpenAsync(fixture.Gateway, Streamed(4000));
        Assert.NotNull(await first.NextDataAsync());
        Assert.NotNull(await second.NextDataAsync());

        using var content = new StringContent(Chat(string.Concat(Enumerable.Repeat("word ", 6000))), Encoding.UTF8, "application/json");
        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", content);
        var stillRunning = await first.NextDataAsync() is not (null or "[DONE]");

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "context_length_exceeded", "maximum context length is 4096 tokens");
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.True(stillRunning, "the refusal came after a slot was free");
    }

    [Fact]
    public async Task APromptTooLongToRuleOutByItsSizeIsCountedAndServedWhenItFits()
    {
        // 15,000 bytes could be 15,000 tokens, over the 4,096 of a slot: the gateway counts them (about 3,000) and lets it through.
        using var content = new StringContent(Chat(string.Concat(Enumerable.Repeat("word ", 3000))), Encoding.UTF8, "application/json");
        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.InRange(JsonDocument.Parse(text).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), 2000, 4095);
    }

    private Task<HttpResponseMessage> PostExpectingContinueAsync(string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        return fixture.Gateway.SendAsync(request);
    }

    private static bool IsOpen(TcpClient client) =>
        !(client.Client.Poll(0, SelectMode.SelectRead) && client.Client.Available == 0);

    private static string Streamed(int maxTokens) =>
        $$"""{"model":"{{M}}","messages":[{"role":"user","content":"Go on"}],"max_tokens":{{maxTokens}},"temperature":0,"stream":true}""";

    private static string Chat(string content) =>
        $$"""{"model":"{{M}}","messages":[{"role":"user","content":"{{content}}"}],"max_tokens":1}""";

    private async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string setting)
    {
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{(int)response.StatusCode}: {text}");
        Assert.Equal(status, response.StatusCode);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains(setting, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        return error.Clone();
    }
}
