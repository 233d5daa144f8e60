using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// A <c>chat.completion.chunk</c>: one SSE event of a stream. <c>usage</c> is left out of every chunk but the
/// last one of a stream that asked for it, which has no choices.
/// </summary>
public sealed record ChatCompletionChunk(
    [property: JsonPropertyOrder(-2)] string Id,
    long Created,
    string Model,
    IReadOnlyList<ChatCompletionChunkChoice> Choices,
    CompletionUsage? Usage = null)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string ObjectType => "chat.completion.chunk";
}

public sealed record ChatCompletionChunkChoice(
    int Index,
    ChatCompletionDelta Delta,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public object? Logprobs => null;
}

public sealed record ChatCompletionDelta(string? Role = null, string? Content = null, IReadOnlyList<ToolCall>? ToolCalls = null);
