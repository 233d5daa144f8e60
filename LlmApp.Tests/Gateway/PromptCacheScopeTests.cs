using System.Text;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Tenancy;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Tests.Gateway;

/// <summary>What each request may use of the backend's prompt cache with <c>Backend:PromptCacheIsolation=PerKey</c>, and how it is asked.</summary>
public sealed class PromptCacheScopeTests
{
    private static readonly ChatMessage s_system = new(ChatRole.System, "You are terse.");
    private static readonly ChatMessage s_first = new(ChatRole.User, "What is the capital of France?");
    private static readonly ChatMessage s_answer = new(ChatRole.Assistant, "Paris.");
    private static readonly ChatMessage s_next = new(ChatRole.User, "And of Spain?");

    [Fact]
    public void IsolatedAKeysOwnFollowUpMayUseTheCacheAndNothingElseMay()
    {
        var scope = Scope(PromptCacheIsolation.PerKey);
        Assert.False(CachePrompt(scope, "a", [s_system, s_first]));
        scope.Answered("a", [s_system, s_first]);

        Assert.True(CachePrompt(scope, "a", [s_system, s_first, s_answer, s_next]));
        // Another key with the same history: it never had it answered.
        Assert.False(CachePrompt(scope, "b", [s_system, s_first, s_answer, s_next]));
        // The same key again on a first turn, and on a history it did not have.
        Assert.False(CachePrompt(scope, "a", [s_system, s_first]));
        Assert.False(CachePrompt(scope, "a", [s_system, new ChatMessage(ChatRole.User, "What is the capital of Peru?"), s_answer, s_next]));
    }

    [Fact]
    public void AToolResultAfterTheKeysOwnToolCallIsAFollowUp()
    {
        var scope = Scope(PromptCacheIsolation.PerKey);
        scope.Answered("a", [s_system, s_first]);
        var call = new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "capital", new Dictionary<string, object?> { ["country"] = "France" })]);
        var result = new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", "Paris")]);

        Assert.True(CachePrompt(scope, "a", [s_system, s_first, call, result]));
    }

    [Fact]
    public void EachKeyHasASaltOfItsOwnForVllm()
    {
        var scope = Scope(PromptCacheIsolation.PerKey);
        string Salt(string key)
        {
            var options = new ChatOptions();
            scope.Apply(key, [s_first], options);
            return (string)options.AdditionalProperties![ChatOptionKeys.CacheSalt]!;
        }

        Assert.Equal(Salt("tenant-one"), Salt("tenant-one"));
        Assert.NotEqual(Salt("tenant-one"), Salt("tenant-two"));
        Assert.DoesNotContain("tenant", Salt("tenant-one"), StringComparison.Ordinal);
    }

    [Fact]
    public void SharedByDefaultNothingIsMarked()
    {
        var options = new ChatOptions();

        Scope(PromptCacheIsolation.None).Apply("a", [s_system, s_first], options);

        Assert.Null(options.AdditionalProperties);
    }

    [Theory]
    [InlineData(true, null, "\"cache_prompt\":true")]
    [InlineData(true, false, "\"cache_prompt\":false")]
    [InlineData(false, false, "\"cache_salt\":\"s1\"")]
    public void TheBackendIsAskedInItsOwnTerms(bool llamaCpp, bool? mayUseCache, string expected)
    {
        var options = new ChatOptions { AdditionalProperties = new() { [ChatOptionKeys.CacheSalt] = "s1" } };
        if (mayUseCache is { } allowed)
        {
            options.AdditionalProperties[ChatOptionKeys.CachePrompt] = allowed;
        }

        var body = Encoding.UTF8.GetString(BackendRequestWriter.Write([s_first], options, "m", stream: false, cachePrompt: llamaCpp));

        Assert.Contains(expected, body, StringComparison.Ordinal);
        Assert.DoesNotContain("llmapp.", body, StringComparison.Ordinal);
        Assert.Equal(llamaCpp, !body.Contains("cache_salt", StringComparison.Ordinal));
    }

    private static PromptCacheScope Scope(PromptCacheIsolation isolation) =>
        new(Options.Create(new BackendOptions { PromptCacheIsolation = isolation }));

    private static bool CachePrompt(PromptCacheScope scope, string key, IReadOnlyList<ChatMessage> messages)
    {
        var options = new ChatOptions();
        scope.Apply(key, messages, options);
        return (bool)options.AdditionalProperties![ChatOptionKeys.CachePrompt]!;
    }
}
