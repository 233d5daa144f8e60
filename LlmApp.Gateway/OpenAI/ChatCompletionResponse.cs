using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>A <c>chat.completion</c> object, field for field as OpenAI returns it.</summary>
public sealed record ChatCompletionResponse(
    [property: JsonPropertyOrder(-2)] string Id,
    long Created,
    string Model,
    IReadOnlyList<ChatCompletionChoice> Choices,
    CompletionUsage? Usage)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string ObjectType => "chat.completion";
}

public sealed record ChatCompletionChoice(
    int Index,
    ChatCompletionResponseMessage Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonElement? Logprobs);

public sealed record ChatCompletionResponseMessage(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Content,
    IReadOnlyList<ToolCall>? ToolCalls)
{
    public string Role => "assistant";

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Refusal => null;
}

public sealed record CompletionUsage(
    int PromptTokens,
    int CompletionTokens,
    int TotalTokens,
    PromptTokensDetails? PromptTokensDetails);

public sealed record PromptTokensDetails(int CachedTokens);
