using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// Objectives kept, end to end: the gateway in front of a real llama-server of its own with one slot, taught its speed by
/// a few answers of 1,500 tokens (about a second each here), then asked for more while a slot is busy. What is predicted
/// to miss its objective is turned away at once with 429 <c>ttft_objective</c> and <c>Retry-After</c>; what is admitted
/// has its first token within the objective.
/// </summary>
public sealed class SloTests(ITestOutputHelper output)
{
    private const int LongAnswer = 1500;
    private static readonly string s_key = $"sk-slo-{Guid.NewGuid():N}";
    private static readonly string s_tightKey = $"sk-slo-tight-{Guid.NewGuid():N}";

    [Fact]
    public async Task AFloodThatWouldQueuePastTheObjectiveGetsFast429sWhileTheAdmittedMeetIt()
    {
        var objective = TimeSpan.FromMilliseconds(300);
        await using var llama = await LlamaServerProcess.StartAsync(["--parallel", "1", "--threads", "1"], CancellationToken.None);
        await using var gateway = await StartAsync(llama, ("Slo__TimeToFirstToken", "00:00:00.300"));
        await TeachAsync(gateway);

        var flood = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => AskAsync(gateway, s_key)));

        foreach (var answer in flood)
        {
            output.WriteLine($"{answer.Status} after {answer.Elapsed.TotalMilliseconds:0} ms {answer.Code} Retry-After {answer.RetryAfter}");
        }

        var admitted = flood.Where(a => a.Status == HttpStatusCode.OK).ToList();
        var refused = flood.Where(a => a.Status != HttpStatusCode.OK).ToList();
        Assert.NotEmpty(admitted);
        Assert.True(refused.Count >= 5, $"{refused.Count} of 8 refused: one slot busy for a second leaves no room for a 300 ms first token");
        Assert.All(admitted, a => Assert.True(a.Elapsed < objective, $"admitted, first token after {a.Elapsed.TotalMilliseconds:0} ms"));
        Assert.All(refused, a =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, a.Status);
            Assert.Equal("ttft_objective", a.Code);
            Assert.True(a.RetryAfter >= TimeSpan.FromSeconds(1), "Retry-After, in whole seconds");
            Assert.True(a.Elapsed < objective, $"refused after {a.Elapsed.TotalMilliseconds:0} ms: never after waiting longer than the objective");
        });

        // The speed it predicted from, and the prediction's error, on /metrics.
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("llmapp_backend_prefill_rate_per_second{", metrics, StringComparison.Ordinal);
        Assert.Contains("llmapp_backend_decode_rate_per_second{", metrics, StringComparison.Ordinal);
        Assert.Contains("llmapp_streams=\"1\"", metrics, StringComparison.Ordinal);
        Assert.Contains("llmapp_ttft_prediction_ratio_bucket{", metrics, StringComparison.Ordinal);
        Assert.Contains("llmapp_rejection_reason=\"TtftObjective\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyWithATighterObjectiveIsRefusedFirstAndAHeaderTightensARequestsOwn()
    {
        // A loose objective for everyone (10 s), 300 ms for one key; and a request may ask for less still, never for more.
        await using var llama = await LlamaServerProcess.StartAsync(["--parallel", "1", "--threads", "1"], CancellationToken.None);
        await using var gateway = await StartAsync(llama, ("Slo__TimeToFirstToken", "00:00:10"),
            ("Auth__Keys__1__Name", "tight"), ("Auth__Keys__1__Key", s_tightKey), ("Auth__Keys__1__TtftMs", "300"));
        await TeachAsync(gateway);

        var holder = AskAsync(gateway, s_key, readToEnd: true);
        await WaitForBusySlotAsync(gateway);
        var tight = await AskAsync(gateway, s_tightKey);
        var tightLoosened = await AskAsync(gateway, s_tightKey, header: "60000");
        var tightened = await AskAsync(gateway, s_key, header: "200");
        var loose = AskAsync(gateway, s_key);

        Assert.Equal((HttpStatusCode.TooManyRequests, "ttft_objective"), (tight.Status, tight.Code));
        Assert.Equal((HttpStatusCode.TooManyRequests, "ttft_objective"), (tightLoosened.Status, tightLoosened.Code));
        Assert.Equal((HttpStatusCode.TooManyRequests, "ttft_objective"), (tightened.Status, tightened.Code));
        Assert.Equal(HttpStatusCode.OK, (await holder).Status);
        Assert.Equal(HttpStatusCode.OK, (await loose).Status);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("soon")]
    [InlineData("3600001")]
    public async Task ABadObjectiveHeaderIsA400NamingIt(string value)
    {
        await using var llama = await LlamaServerProcess.StartAsync(["--parallel", "1"], CancellationToken.None);
        await using var gateway = await StartAsync(llama);

        var answer = await AskAsync(gateway, s_key, header: value);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_header", answer.Code);
    }

    private static Task<GatewayProcess> StartAsync(LlamaServerProcess llama, params (string Name, string Value)[] settings)
    {
        var all = new Dictionary<string, string>
        {
            ["Backend__Endpoint"] = llama.Address.ToString(),
            ["Backend__Model"] = "tiny",
            ["Backend__ApiKey"] = llama.Key,
            ["Auth__Keys__0__Name"] = "app",
            ["Auth__Keys__0__Key"] = s_key,
        };
        foreach (var (name, value) in settings)
        {
            all[name] = value;
        }

        return GatewayProcess.StartAsync(all);
    }

    /// <summary>A few whole answers, one after another: what the gateway learns the backend's speed from.</summary>
    private static async Task TeachAsync(GatewayProcess gateway)
    {
        for (var i = 0; i < 4; i++)
        {
            var answer = await AskAsync(gateway, s_key, readToEnd: true);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }
    }

    private static async Task WaitForBusySlotAsync(GatewayProcess gateway)
    {
        var deadline = Stopwatch.StartNew();
        while (!(await gateway.Client.GetStringAsync("/metrics")).Contains("llmapp_backend_slots_busy{otel_scope_name=\"LlmApp.Gateway\",llmapp_backend=\"llm\"} 1",
                   StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the holder never took the slot");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Asks for a long streamed answer; returns its status, and how long until its first token (or its refusal) came.
    /// </summary>
    private static async Task<Answer> AskAsync(GatewayProcess gateway, string key, string? header = null, bool readToEnd = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"tiny","messages":[{"role":"user","content":"Go on"}],"max_tokens":{{LongAnswer}},"ignore_eos":true,"temperature":0,"stream":true}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation("X-LlmApp-Ttft-Ms", header);
        }

        var clock = Stopwatch.StartNew();
        using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var elapsed = clock.Elapsed;
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return new Answer(response.StatusCode, elapsed, error.RootElement.GetProperty("error").GetProperty("code").GetString(), response.Headers.RetryAfter?.Delta);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        TimeSpan? firstToken = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (firstToken is null && line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"content\":\"", StringComparison.Ordinal))
            {
                firstToken = clock.Elapsed;
                if (!readToEnd)
                {
                    break;
                }
            }
        }

        return new Answer(response.StatusCode, firstToken ?? clock.Elapsed, null, null);
    }

    private sealed record Answer(HttpStatusCode Status, TimeSpan Elapsed, string? Code, TimeSpan? RetryAfter);
}
