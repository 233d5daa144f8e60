using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Authentication;

/// <summary>
/// <c>Backend:PromptCacheIsolation=PerKey</c> against the real llama-server: one key's long prompt is not answered out of
/// what another key left in the cache (the probe that learned another tenant's prompt from <c>cached_tokens</c>), and a
/// key's own follow-up still is.
/// </summary>
[Collection(ApiKeyAppCollectionDefinition.Name)]
public sealed class PromptCacheIsolationTests(ApiKeyAppFixture fixture)
{
    [Fact]
    public async Task AnotherKeysPromptIsReadWholeWhileTheKeysOwnFollowUpComesFromTheCache()
    {
        var prompt = LongPrompt();

        var (first, answer) = await ChatAsync(fixture.DefaultKey, [("user", prompt)]);
        var (followUp, _) = await ChatAsync(fixture.DefaultKey, [("user", prompt), ("assistant", answer), ("user", "Go on")]);
        var (probe, _) = await ChatAsync(fixture.FileKey, [("user", prompt)]);

        Assert.True(first.Prompt > 1000, $"the prompt is {first.Prompt} tokens");
        Assert.Equal(0, first.Cached);
        Assert.True(followUp.Cached >= first.Prompt - 1, $"the key's own follow-up had {followUp.Cached} of its {first.Prompt} earlier tokens from the cache");
        Assert.Equal(0, probe.Cached);
    }

    /// <summary>About 1,100 tokens that no other test sends, so no cache holds them before this test.</summary>
    private static string LongPrompt()
    {
        var text = new StringBuilder(Guid.NewGuid().ToString("N"));
        for (var i = 0; i < 250; i++)
        {
            text.Append(" the river runs past stone");
        }

        return text.ToString();
    }

    private async Task<((int Prompt, int Cached) Usage, string Answer)> ChatAsync(string key, (string Role, string Content)[] messages)
    {
        using var request = ApiKeyAppFixture.Request(HttpMethod.Post, "/v1/chat/completions", key);
        request.Content = new StringContent(JsonSerializer.Serialize(new
        {
            model = GatewayAppFixture.ServedModel,
            messages = messages.Select(m => new { role = m.Role, content = m.Content }),
            max_tokens = 4,
            temperature = 0,
        }), Encoding.UTF8, "application/json");
        using var response = await fixture.Gateway.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var usage = json.RootElement.GetProperty("usage");
        var cached = usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            ? details.GetProperty("cached_tokens").GetInt32()
            : 0;
        var answer = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
        return ((usage.GetProperty("prompt_tokens").GetInt32(), cached), answer);
    }
}
