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
        using (var alone = await PostAsync(gateway.Client, Request(maxTokens: 4, stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, alone.StatusCode);
        }

        // llama-server held (stopped: it takes the connection and answers nothing), so that the first request keeps its
        // slot for as long as the test needs, however fast the answer would have been: no race with its generation.
        var llamaServer = fixture.BackendProcessId();
        ProcessSignals.Send("STOP", llamaServer);
        Task<HttpResponseMessage> first;
        try
        {
            first = PostAsync(gateway.Client, Request(maxTokens: 4, stream: false));
            await WaitForBusySlotsAsync(gateway.Client, 1);

            // llama-server has two slots; the gateway admits the one it was told to. (Had it taken llama-server's two, the
            // second would be sent to the held server and not come back: the wait fails the test instead of hanging it.)
            using var second = await PostAsync(gateway.Client, Request(maxTokens: 4, stream: false)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        }
        finally
        {
            ProcessSignals.Send("CONT", llamaServer);
        }

        using var answered = await first;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
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

    /// <summary>Waits until the gateway's <c>/metrics</c> shows <paramref name="busy"/> of its backend's slots taken.</summary>
    private static async Task WaitForBusySlotsAsync(HttpClient gateway, int busy)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!(await gateway.GetStringAsync("/metrics")).Split('\n')
                   .Any(l => l.StartsWith("llmapp_backend_slots_busy{", StringComparison.Ordinal) && l.EndsWith($" {busy}", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the gateway never had {busy} busy slot(s)");
            await Task.Delay(20);
        }
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string json) =>
        client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
}
