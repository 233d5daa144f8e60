using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace LlmApp.Tests.Integrity;

/// <summary>
/// An answer the backend cuts part-way must reach every client as a failure, never as a whole answer; one it finishes
/// arrives whole, with its own counts. The cut is llama-server's own error event, sent by a proxy in front of the real
/// server (<see cref="MidAnswerErrorProxy"/> says why); what comes before it is the real server's answer.
/// </summary>
[Collection(IntegrityAppCollectionDefinition.Name)]
public sealed class IntegrityTests(IntegrityAppFixture fixture, ITestOutputHelper output)
{
    private const int MaxTokens = 200;

    private static string Request(string prompt, int seed, bool stream, int maxTokens = MaxTokens) =>
        $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":{{maxTokens}},"temperature":1.0,"seed":{{seed}},"stream":{{(stream ? "true,\"stream_options\":{\"include_usage\":true}" : "false")}}}""";

    [Fact]
    public async Task AnAnswerTheBackendCutsMidStreamIsAnErrorForEveryClientNeverAWholeAnswer()
    {
        const string Prompt = MidAnswerErrorProxy.CutPrompt;
        const string BackendMessage = MidAnswerErrorProxy.BackendMessage;
        var cutsBefore = fixture.Proxy.Cuts;

        // Streamed, raw: the last event is the error, with the backend's words; nothing says the answer finished.
        await using (var stream = await SseReader.OpenAsync(fixture.Gateway, Request(Prompt, seed: 1, stream: true)))
        {
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            var (events, _) = await stream.ReadToEndAsync();
            output.WriteLine($"streamed through the gateway: {events.Count} events, the last: {events[^1]}");
            using var last = JsonDocument.Parse(events[^1]);
            var error = last.RootElement.GetProperty("error");
            Assert.Equal("backend_error", error.GetProperty("code").GetString());
            Assert.Contains(BackendMessage, error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.True(events.Count > 2, "the answer was cut part-way, after some content");
            Assert.Contains(events, e => e.Contains("\"content\":\"", StringComparison.Ordinal));
            Assert.DoesNotContain(events, e => e.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal) ||
                                               e.Contains("\"finish_reason\":\"length\"", StringComparison.Ordinal));
            Assert.DoesNotContain(events, e => e.Contains("\"usage\"", StringComparison.Ordinal));
            Assert.DoesNotContain("[DONE]", events);
        }

        // One answer: a 502 with the same error, not a 200 with part of an answer.
        using (var single = await PostAsync(fixture.Gateway, Request(Prompt, seed: 1, stream: false)))
        {
            var body = await single.Content.ReadAsStringAsync();
            output.WriteLine($"one answer through the gateway: {(int)single.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.BadGateway, single.StatusCode);
            using var error = JsonDocument.Parse(body);
            Assert.Equal("backend_error", error.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains(BackendMessage, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // The official .NET SDK sees an error status, not a completion.
        var sdkError = await Assert.ThrowsAsync<ClientResultException>(() => fixture.CreateChatClient().CompleteChatAsync(
            [new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 1.0f }));
        Assert.Equal(502, sdkError.Status);

        // The official Node SDK throws for both.
        await NodeSdk.RunAsync("integrity.test.mjs", fixture.GatewayBaseAddress, new Dictionary<string, string>());

        // Every one of them reached the backend and was cut there, not refused before it (the .NET SDK retries a 502).
        Assert.True(fixture.Proxy.Cuts - cutsBefore >= 5, $"answers cut: {fixture.Proxy.Cuts - cutsBefore}");

        // And the failures are counted by their error.type: an error event in a stream, a 500 for a single answer.
        var metrics = await fixture.Management.GetStringAsync("/metrics");
        Assert.True(UpstreamErrors(metrics, "backend_error") >= 2, $"streamed failures counted: {UpstreamErrors(metrics, "backend_error")}");
        Assert.True(UpstreamErrors(metrics, "http_500") >= 3, $"single-answer failures counted: {UpstreamErrors(metrics, "http_500")}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task AnAnswerTheBackendFinishesArrivesWholeWithTheBackendsOwnCounts(int seed)
    {
        const string Prompt = "Write a story about a harbour.";
        using var direct = JsonDocument.Parse(await (await PostAsync(fixture.Backend, Request(Prompt, seed, stream: false))).Content.ReadAsStringAsync());

        await using var stream = await SseReader.OpenAsync(fixture.Gateway, Request(Prompt, seed, stream: true));
        var (events, _) = await stream.ReadToEndAsync();

        Assert.Equal("[DONE]", events[^1]);
        using var usage = JsonDocument.Parse(events[^2]);
        Assert.Equal(
            direct.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        using var finish = JsonDocument.Parse(events[^3]);
        Assert.Equal(
            direct.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString(),
            finish.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    /// <summary>
    /// An answer that <c>max_tokens</c> ends part-way through a character (a byte token of a multi-byte one, as the random
    /// test model often samples, and as any model can on non-English text) is an answer, not an error: llama.cpp up to
    /// v0.4.0 failed it with a 500 ("does not match the expected Content-only format"), which reached clients as a 502.
    /// </summary>
    [Fact]
    public async Task AnAnswerMaxTokensEndsPartWayThroughACharacterArrivesAsAnAnswerNotAnError()
    {
        const string Prompt = "Hello";
        const int MaxTokensCut = 2;

        // The first seed whose answer, straight from llama-server, ends part-way through a character: either the
        // replacement character where the cut bytes were, or (a llama.cpp with the bug) no answer at all.
        var seed = 0;
        for (var candidate = 1; candidate <= 2000 && seed == 0; candidate++)
        {
            using var direct = await PostAsync(fixture.Backend, Request(Prompt, candidate, stream: false, MaxTokensCut));
            var body = await direct.Content.ReadAsStringAsync();
            if (!direct.IsSuccessStatusCode || body.Contains("\\ufffd", StringComparison.OrdinalIgnoreCase) || body.Contains('\uFFFD', StringComparison.Ordinal))
            {
                output.WriteLine($"seed {candidate}, straight from llama-server: {(int)direct.StatusCode} {body}");
                seed = candidate;
            }
        }

        Assert.True(seed > 0, "no seed from 1 to 2000 ends its answer part-way through a character; find another prompt");

        using (var single = await PostAsync(fixture.Gateway, Request(Prompt, seed, stream: false, MaxTokensCut)))
        {
            var body = await single.Content.ReadAsStringAsync();
            output.WriteLine($"one answer through the gateway: {(int)single.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);
            using var answer = JsonDocument.Parse(body);
            Assert.Equal("length", answer.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        }

        await using var stream = await SseReader.OpenAsync(fixture.Gateway, Request(Prompt, seed, stream: true, MaxTokensCut));
        var (events, _) = await stream.ReadToEndAsync();
        output.WriteLine($"streamed through the gateway: {string.Join(" | ", events)}");
        Assert.Equal("[DONE]", events[^1]);
        Assert.Contains(events, e => e.Contains("\"finish_reason\":\"length\"", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Contains("\"error\"", StringComparison.Ordinal));
    }

    private static double UpstreamErrors(string metrics, string errorType) => metrics.Split('\n')
        .Where(l => l.StartsWith("llmapp_upstream_errors_total{", StringComparison.Ordinal) && l.Contains($"error_type=\"{errorType}\"", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The same cut through Anthropic's Messages API: an <c>error</c> event ends the stream, a single answer is a 502, both in Anthropic's shape.</summary>
    [Fact]
    public async Task AnAnswerCutMidStreamIsAnAnthropicErrorEventNeverAMessageStop()
    {
        var request = $$"""{"model":"{{GatewayAppFixture.ServedModel}}","max_tokens":{{MaxTokens}},"messages":[{"role":"user","content":"{{MidAnswerErrorProxy.CutPrompt}}"}],"stream":STREAM}""";
        await using (var stream = await SseReader.OpenAsync(fixture.Gateway, request.Replace("STREAM", "true", StringComparison.Ordinal), path: "/v1/messages"))
        {
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            var (events, _) = await stream.ReadToEndAsync();
            output.WriteLine($"streamed through /v1/messages: {events.Count} events, the last: {events[^1]}");
            using var last = JsonDocument.Parse(events[^1]);
            Assert.Equal("error", last.RootElement.GetProperty("type").GetString());
            Assert.Contains(MidAnswerErrorProxy.BackendMessage, last.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains(events, e => e.Contains("\"text_delta\"", StringComparison.Ordinal));
            Assert.DoesNotContain(events, e => e.Contains("\"message_delta\"", StringComparison.Ordinal) || e.Contains("\"message_stop\"", StringComparison.Ordinal));
        }

        using var single = await fixture.Gateway.PostAsync("/v1/messages",
            new StringContent(request.Replace("STREAM", "false", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        var body = await single.Content.ReadAsStringAsync();
        output.WriteLine($"one answer through /v1/messages: {(int)single.StatusCode} {body}");
        Assert.Equal(HttpStatusCode.BadGateway, single.StatusCode);
        using var error = JsonDocument.Parse(body);
        Assert.Equal("api_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    /// <summary>
    /// The same cut through the Responses API: <c>response.failed</c> ends the stream, never <c>response.completed</c>,
    /// and its response holds the message cut short, <c>incomplete</c>, with all of the text that was sent; a single
    /// answer is a 502.
    /// </summary>
    [Fact]
    public async Task AnAnswerCutMidStreamIsResponseFailedHoldingWhatWasSent()
    {
        var request = $$"""{"model":"{{GatewayAppFixture.ServedModel}}","max_output_tokens":{{MaxTokens}},"input":"{{MidAnswerErrorProxy.CutPrompt}}","stream":STREAM}""";
        await using (var stream = await SseReader.OpenAsync(fixture.Gateway, request.Replace("STREAM", "true", StringComparison.Ordinal), path: "/v1/responses"))
        {
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            var (events, _) = await stream.ReadToEndAsync();
            output.WriteLine($"streamed through /v1/responses: {events.Count} events, the last: {events[^1]}");
            var parsed = events.Select(e => JsonDocument.Parse(e).RootElement.Clone()).ToList();
            var last = parsed[^1];
            Assert.Equal("response.failed", last.GetProperty("type").GetString());
            Assert.Contains(MidAnswerErrorProxy.BackendMessage, last.GetProperty("response").GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(parsed, e => e.GetProperty("type").GetString() is "response.completed" or "response.incomplete");
            var sent = string.Concat(parsed.Where(e => e.GetProperty("type").GetString() == "response.output_text.delta").Select(e => e.GetProperty("delta").GetString()));
            Assert.NotEmpty(sent);
            var item = Assert.Single(last.GetProperty("response").GetProperty("output").EnumerateArray());
            Assert.Equal("incomplete", item.GetProperty("status").GetString());
            Assert.Equal(sent, item.GetProperty("content")[0].GetProperty("text").GetString());
            Assert.Equal(Enumerable.Range(0, parsed.Count), parsed.Select(e => e.GetProperty("sequence_number").GetInt32()));
        }

        using var single = await fixture.Gateway.PostAsync("/v1/responses",
            new StringContent(request.Replace("STREAM", "false", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        output.WriteLine($"one answer through /v1/responses: {(int)single.StatusCode} {await single.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.BadGateway, single.StatusCode);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string json) =>
        client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task WithoutAnEmbeddingModelEmbeddingsAnswer404ModelNotFound()
    {
        // This fixture's gateway has no embedding backend.
        using var response = await fixture.Gateway.PostAsync("/v1/embeddings",
            new StringContent("""{"model":"nomic-embed-text-v1.5","input":"a"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"code\":\"model_not_found\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
