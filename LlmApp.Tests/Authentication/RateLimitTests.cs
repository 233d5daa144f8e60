using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmApp.Tests.Authentication;

/// <summary>
/// Per-key limits against the real stack, with the keys file's limits: requests and tokens per minute with OpenAI's
/// headers and 429s, real usage settled against what was reserved, and a key held to one request at a time. Each test
/// has a key of its own, so that no test spends another's budget.
/// </summary>
[Collection(ApiKeyAppCollectionDefinition.Name)]
public sealed class RateLimitTests(ApiKeyAppFixture fixture)
{
    private const string M = GatewayAppFixture.ServedModel;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EveryRateLimitHeaderComesWithTheAnswer(bool stream)
    {
        using var response = await PostAsync(fixture.MeteredKey, Chat("Go on", maxTokens: 4, stream: stream));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1000", Header(response, "x-ratelimit-limit-requests"));
        Assert.InRange(Number(response, "x-ratelimit-remaining-requests"), 900, 999);
        Assert.Matches("^[0-9.]+(ms|s)$", Header(response, "x-ratelimit-reset-requests"));
        Assert.Equal(ApiKeyAppFixture.MeteredTokensPerMinute.ToString(CultureInfo.InvariantCulture), Header(response, "x-ratelimit-limit-tokens"));
        Assert.InRange(Number(response, "x-ratelimit-remaining-tokens"), 0, ApiKeyAppFixture.MeteredTokensPerMinute - 4);
        Assert.Matches("^([0-9]+m)?[0-9.]+(ms|s)$", Header(response, "x-ratelimit-reset-tokens"));
    }

    [Fact]
    public async Task ABurstOverAKeysLimitGets429WithRetryAfterWhileAnotherKeyIsServed()
    {
        using var first = await PostAsync(fixture.BurstKey, Chat("Go on", maxTokens: 1));
        using var second = await PostAsync(fixture.BurstKey, Chat("Go on", maxTokens: 1));
        using var third = await PostAsync(fixture.BurstKey, Chat("Go on", maxTokens: 1));
        using var other = await PostAsync(fixture.FileKey, Chat("Go on", maxTokens: 1));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        var error = await ErrorAsync(third);
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Contains("requests per minute (RPM): Limit 2", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(third.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.InRange(Number(third, "retry-after-ms"), 1, 30_000);
        Assert.Equal("0", Header(third, "x-ratelimit-remaining-requests"));

        // Counted by limit on /metrics, with no key (nor its name) on the series.
        var metrics = await fixture.Management.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("llmapp_gateway_rate_limited_total{", StringComparison.Ordinal)
            && l.Contains("llmapp_rate_limit=\"requests\"", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.BurstKey, metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensReservedUpFrontAreSettledWithTheRealUsage()
    {
        var key = fixture.SettledKey;
        var limit = ApiKeyAppFixture.MeteredTokensPerMinute;
        var clock = Stopwatch.StartNew();

        // A reservation of max_tokens 2000, of which a stop string uses a few.
        using var first = await PostAsync(key, Chat("Go on", maxTokens: 2000, stop: "e"));
        using var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var used = body.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
        Assert.InRange(Number(first, "x-ratelimit-remaining-tokens"), limit - 2100, limit - 2000);
        Assert.True(used < 1000, $"the answer used {used} tokens; the stop string should have ended it early");

        using var second = await PostAsync(key, Chat("Go on", maxTokens: 10));
        var refill = (int)(clock.Elapsed.TotalSeconds * limit / 60) + 100;

        // What is left is the limit less what the first really used and what the second reserved (prompt estimate and 10).
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.InRange(Number(second, "x-ratelimit-remaining-tokens"), limit - used - 30, Math.Min(limit, limit - used + refill));
    }

    [Fact]
    public async Task AKeyOverItsRequestsLimitIsRefusedBeforeItsBodyIsRead()
    {
        using var first = await PostAsync(fixture.OneAMinuteKey, Chat("Go on", maxTokens: 1));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // A body that says it is 3 MB long, sent only once the server asks for it (Expect: 100-continue, which Kestrel
        // answers when the endpoint first reads the body), and that never comes: reading it would hang the request.
        using var request = ApiKeyAppFixture.Request(HttpMethod.Post, "/v1/chat/completions", fixture.OneAMinuteKey);
        request.Headers.ExpectContinue = true;
        using var body = new NeverArrivingContent(3 << 20);
        request.Content = body;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();
        using var refused = await fixture.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the refusal took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("requests", (await ErrorAsync(refused)).GetProperty("type").GetString());
    }

    /// <summary>Declares its length, then sends nothing until the request is over.</summary>
    private sealed class NeverArrivingContent(long length) : HttpContent
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => await _done.Task;

        protected override bool TryComputeLength(out long length1)
        {
            length1 = length;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            _done.TrySetResult();
            base.Dispose(disposing);
        }
    }

    [Fact]
    public async Task RequestsWithoutMaxTokensCannotOverrunAHundredTokensAMinute()
    {
        // Each answer could run to the context (4,096 tokens) if the backend were not told how many it may generate.
        var clock = Stopwatch.StartNew();
        var used = 0;
        var served = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var response = await PostAsync(fixture.HundredKey, ChatWithoutMaxTokens("Go on"));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(500);
                continue;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            used += body.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
            served++;
        }

        // One bucket, what refilled in the window, and one bucket over at most (a prompt longer than its estimate).
        var allowed = 100 + (int)(clock.Elapsed.TotalSeconds * 100 / 60) + 100;
        Assert.True(served >= 1, "no request was served");
        Assert.True(used <= allowed, $"{served} answers used {used} tokens in {clock.Elapsed.TotalSeconds:F1} s of a 100-a-minute key (at most {allowed})");
    }

    [Fact]
    public async Task ARequestLargerThanAMinutesTokensIsRefusedWithoutRetryAfterAndASmallerOneIsServed()
    {
        using var tooLarge = await PostAsync(fixture.SmallKey, Chat("Go on", maxTokens: 500));
        using var served = await PostAsync(fixture.SmallKey, Chat("Go on", maxTokens: 20));

        Assert.Equal(HttpStatusCode.TooManyRequests, tooLarge.StatusCode);
        var error = await ErrorAsync(tooLarge);
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.Contains("Request too large", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Null(tooLarge.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("200", Header(served, "x-ratelimit-limit-tokens"));
    }

    [Fact]
    public async Task AKeyLimitedToOneRequestAtATimeWaitsItsTurnWhileAnotherKeyIsServed()
    {
        // "Go on" at temperature 0 runs its whole length on the tiny model (other prompts can trip llama-server's output parser).
        await using var running = await SseReader.OpenAsync(fixture.Gateway, Chat("Go on", maxTokens: 3000, stream: true), apiKey: fixture.SingleKey);
        Assert.Equal(HttpStatusCode.OK, running.Status);
        Assert.NotNull(await running.NextDataAsync());

        // llama-server held (SIGSTOP) keeps the limited key's stream running for as long as the test looks, on a machine of any
        // speed: without it, a busy machine can finish the tiny model's stream before the next request arrives.
        var pid = fixture.BackendProcessId();
        Task<HttpResponseMessage> sameKey, otherKey;
        ProcessSignals.Send("STOP", pid);
        try
        {
            // With a slot free (llama-server has two), the limited key's second request waits in the queue for its turn...
            sameKey = PostAsync(fixture.SingleKey, Chat("Go on", maxTokens: 1));
            Assert.True(await MetricsShowAsync(busy: 1, queued: 1), "the limited key's second request did not wait for its turn with a slot free");

            // ...and the other key's, sent after it, takes that slot past it.
            otherKey = PostAsync(fixture.FileKey, Chat("Go on", maxTokens: 1));
            Assert.True(await MetricsShowAsync(busy: 2, queued: 1), "the other key's request did not take the free slot past the waiting one");
            Assert.False(sameKey.IsCompleted, sameKey.IsCompleted ? $"the limited key's second request did not wait: {await Described(await sameKey)}" : null);
        }
        finally
        {
            ProcessSignals.Send("CONT", pid);
        }

        var (events, _) = await running.ReadToEndAsync();
        using var otherResponse = await otherKey;
        using var sameResponse = await sameKey;
        Assert.True(events[^1] == "[DONE]", string.Join("\n", events.TakeLast(2)));
        Assert.True(otherResponse.StatusCode == HttpStatusCode.OK, await Described(otherResponse));
        Assert.True(sameResponse.StatusCode == HttpStatusCode.OK, await Described(sameResponse));
    }

    /// <summary>Whether the gateway's <c>/metrics</c> come to show these busy slots and queued requests, polled for up to 10 s.</summary>
    private async Task<bool> MetricsShowAsync(int busy, int queued)
    {
        var slots = $"llmapp_backend_slots_busy{{otel_scope_name=\"LlmApp.Gateway\",llmapp_backend=\"llm\"}} {busy}";
        var queue = $"llmapp_queue_length{{otel_scope_name=\"LlmApp.Gateway\"}} {queued}";
        var clock = Stopwatch.StartNew();
        do
        {
            var metrics = await fixture.Management.GetStringAsync("/metrics");
            if (metrics.Contains(slots, StringComparison.Ordinal) && metrics.Contains(queue, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(20);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(10));
        return false;
    }

    [Fact]
    public async Task TheOpenAISdkSeesA429AsItsOwnErrorWithTheRetryAfter()
    {
        var client = new ChatClient(M, new ApiKeyCredential(fixture.SdkBurstKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.GatewayBaseAddress, "v1"),
            // Its default retries would wait out the minute; the test is about what it is told.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        await client.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 1 });

        var refused = await Assert.ThrowsAsync<ClientResultException>(
            () => client.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 1 }));

        Assert.Equal(429, refused.Status);
        Assert.True(refused.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter) && int.Parse(retryAfter!, CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("rate_limit_exceeded", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<string> Described(HttpResponseMessage response) =>
        $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";

    private Task<HttpResponseMessage> PostAsync(string key, string json)
    {
        var request = ApiKeyAppFixture.Request(HttpMethod.Post, "/v1/chat/completions", key);
        request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return fixture.Gateway.SendAsync(request);
    }

    // Temperature 0 by default: the tiny model's output is then the same each run, and "Go on" is known to pass llama-server's
    // output parser to the end (some random answers do not, and get 502, which is not what these tests are about).
    private static string Chat(string content, int maxTokens, bool stream = false, string? stop = null, double? temperature = 0) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = M,
            ["messages"] = new[] { new { role = "user", content } },
            ["max_tokens"] = maxTokens,
            ["stream"] = stream,
            ["stop"] = stop is null ? null : new[] { stop },
            ["temperature"] = temperature,
        }.Where(p => p.Value is not null).ToDictionary());

    private static string ChatWithoutMaxTokens(string content) =>
        JsonSerializer.Serialize(new { model = M, messages = new[] { new { role = "user", content } }, temperature = 0 });

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? Assert.Single(values) : throw new Xunit.Sdk.XunitException($"no {name} header");

    private static long Number(HttpResponseMessage response, string name) => long.Parse(Header(response, name), CultureInfo.InvariantCulture);

    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").Clone();
    }
}
