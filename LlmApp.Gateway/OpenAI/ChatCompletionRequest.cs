using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// The part of an OpenAI Chat Completions request body the gateway understands. Fields whose JSON shape
/// varies (string or array) stay as <see cref="JsonElement"/> and are read by <see cref="ChatRequestMapper"/>.
/// </summary>
public sealed record ChatCompletionRequest
{
    public string? Model { get; init; }
    public IReadOnlyList<ChatCompletionRequestMessage>? Messages { get; init; }
    public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }
    public JsonElement Stop { get; init; }
    public long? Seed { get; init; }
    [JsonPropertyName("presence_penalty")] public float? PresencePenalty { get; init; }
    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; init; }
    public bool? Stream { get; init; }
    public int? N { get; init; }
    public string? User { get; init; }
}

public sealed record ChatCompletionRequestMessage
{
    public string? Role { get; init; }
    public JsonElement Content { get; init; }
    public string? Name { get; init; }
}
