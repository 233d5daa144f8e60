using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// <c>Backend:Kind=openai</c>, the kind for servers other than llama-server (vLLM): a gateway of that kind, run on its
/// own in front of the test's real llama-server, takes its capacity from settings and leaves tool calls to the backend.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class BackendKindTests(GatewayAppFixture fixture)
{
    [Theory]
    [InlineData("Backend__Capacity")]
    [InlineData("Resilience__MaxConcurrentRequests")]
    public async Task AnOpenAIKindBackendGetsTheConfiguredCapacityNotLlamaServersSlots(string setting)
    {
        // Backend:Capacity is what the AppHost sets for vLLM; Resilience:MaxConcurrentRequests, the fallback for any backend.
        await using var gateway = await StartAsync((setting, "1"), ("Resilience__QueueLimit", "0"));

        // Both paths once first, alone. A fresh gateway compiles each on first use, and on a loaded 2-core box it did so
        // slower than llama-server generated: the whole first stream (4,000 tokens, about 1.3 s) was made and waiting in
        // the gateway's socket before its first event reached the client, and the second then found the slot free.
        using (var alone = await PostAsync(gateway.Client, Request(maxTokens: 4, stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, alone.StatusCode);
        }

        await using (var warm = await SseReader.OpenAsync(gateway.Client, Request(maxTokens: 4, stream: true)))
        {
            Assert.Equal("[DONE]", (await warm.ReadToEndAsync()).Events[^1]);
        }

        await using var first = await SseReader.OpenAsync(gateway.Client, Request(maxTokens: 4000, stream: true));
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.NotNull(await first.NextDataAsync());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var second = await PostAsync(gateway.Client, Request(maxTokens: 4, stream: false));

        // llama-server has two slots; the gateway admits the one it was told to.
        if (second.StatusCode != HttpStatusCode.TooManyRequests)
        {
            var (events, _) = await first.ReadToEndAsync();
            Assert.Fail($"the second got {(int)second.StatusCode} after {clock.ElapsedMilliseconds} ms; the first then had {events.Count} more events, the last: {string.Join(" | ", events.TakeLast(2))}");
        }
    }

    [Fact]
    public async Task AnOpenAIKindBackendGetsTheToolsItself()
    {
        await using var gateway = await StartAsync(("Resilience__MaxConcurrentRequests", "2"));
        const string tools = """
            "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
            "tool_choice":"required"
            """;

        using var response = await PostAsync(gateway.Client, Request(maxTokens: 16, stream: false, extra: tools));

        // Passed through, not emulated: llama-server without --jinja fails on tools (with a 500), and the gateway says so.
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        using var error = JsonDocument.Parse(body);
        Assert.Contains("jinja", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    private Task<GatewayProcess> StartAsync(params (string Name, string Value)[] settings) =>
        GatewayProcess.StartAsync(new Dictionary<string, string>(settings.Select(s => KeyValuePair.Create(s.Name, s.Value)))
        {
            ["Backend__Endpoint"] = fixture.Backend.BaseAddress!.ToString(),
            ["Backend__Model"] = GatewayAppFixture.ServedModel,
            ["Backend__Kind"] = "openai",
            ["Backend__ApiKey"] = fixture.BackendKey,
        });

    private static string Request(int maxTokens, bool stream, string? extra = null) =>
        $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"Go on"}],"max_tokens":{{maxTokens}},"temperature":0,"stream":{{(stream ? "true" : "false")}}{{(extra is null ? "" : "," + extra)}}}""";

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string json) =>
        client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
}
