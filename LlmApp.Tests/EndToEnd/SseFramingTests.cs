using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.EndToEnd;

/// <summary>The raw bytes of a stream, as a client without an SDK sees them.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed partial class SseFramingTests(GatewayAppFixture fixture)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AStreamIsDataLinesThenDoneAndUsageOnlyWhenAsked(bool includeUsage)
    {
        var options = includeUsage ? ""","stream_options":{"include_usage":true}""" : "";
        var (contentType, body) = await PostStreamAsync(
            $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0,"stream":true{{options}}}""");

        Assert.Equal("text/event-stream", contentType);
        Assert.Matches(Framing(), body);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e.StartsWith("data: ", StringComparison.Ordinal)).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();

        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());

        var withChoices = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).ToList();
        Assert.Equal("length", withChoices[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(withChoices.SkipLast(1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.All(withChoices, c => Assert.False(c.TryGetProperty("usage", out var u) && u.ValueKind != JsonValueKind.Null));

        if (includeUsage)
        {
            var last = chunks[^1];
            Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
            var usage = last.GetProperty("usage");
            Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
            Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 6, usage.GetProperty("total_tokens").GetInt32());
        }
        else
        {
            Assert.Equal(withChoices.Count, chunks.Count);
        }
    }

    [Fact]
    public async Task ALongPromptGetsKeepAliveCommentsBeforeItsFirstToken()
    {
        // About 3,000 prompt tokens: the tiny model reads them in well over the 100 ms keep-alive interval set by the fixture.
        var prompt = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog ", 330));
        var (_, body) = await PostStreamAsync(
            $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":2,"temperature":0,"stream":true}""");

        Assert.Matches(Framing(), body);
        Assert.StartsWith(": keep-alive\n\n", body, StringComparison.Ordinal);
    }

    private async Task<(string? ContentType, string Body)> PostStreamAsync(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await fixture.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return (response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    // Exactly: events of one "data: " line each, separated by a blank line (keep-alive comments allowed), [DONE] last.
    [GeneratedRegex(@"\A(?:(?:data: \{[^\n]*\}|: keep-alive)\n\n)+data: \[DONE\]\n\n\z")]
    private static partial Regex Framing();
}
