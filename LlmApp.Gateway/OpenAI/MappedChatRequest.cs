using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>A request the gateway accepted, in Microsoft.Extensions.AI's terms, plus how to answer it.</summary>
public sealed record MappedChatRequest(
    IReadOnlyList<ChatMessage> Messages,
    ChatOptions Options,
    bool Stream,
    bool IncludeUsage)
{
    /// <summary>The prompt's size in UTF-16 characters (message text and tool-call arguments), once the caps counted it.</summary>
    public long PromptCharacters { get; init; }
}

/// <summary>A reason to refuse a request with 400, naming the offending parameter as OpenAI does.</summary>
public sealed record RequestError(string Message, string? Param, string? Code = null);
