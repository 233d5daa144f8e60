using LlmApp.Gateway.Admission;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

/// <summary>The key that keeps a conversation on one replica: its system prompt and first user message, and nothing after.</summary>
public sealed class PrefixAffinityTests
{
    [Fact]
    public void EveryTurnOfAConversationHasItsKeyAndOtherConversationsHaveOthers()
    {
        ChatMessage[] first = [new(ChatRole.System, "You are helpful."), new(ChatRole.User, "Hello")];
        ChatMessage[] followUp = [.. first, new(ChatRole.Assistant, "Hi!"), new(ChatRole.User, "And then?")];
        ChatMessage[] other = [new(ChatRole.System, "You are helpful."), new(ChatRole.User, "Goodbye")];
        ChatMessage[] otherSystem = [new(ChatRole.System, "You are terse."), new(ChatRole.User, "Hello")];

        Assert.Equal(PrefixAffinity.Of(first), PrefixAffinity.Of(followUp));
        Assert.NotEqual(PrefixAffinity.Of(first), PrefixAffinity.Of(other));
        Assert.NotEqual(PrefixAffinity.Of(first), PrefixAffinity.Of(otherSystem));
        Assert.NotEqual(PrefixAffinity.Of([new(ChatRole.User, "a")]), PrefixAffinity.Of([new(ChatRole.User, "b")]));
    }
}
