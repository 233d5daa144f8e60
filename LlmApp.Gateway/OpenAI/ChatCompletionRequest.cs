using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// An OpenAI Chat Completions request body. Fields whose JSON shape varies (a string or an array, a string or
/// an object) stay as <see cref="JsonElement"/> and are read, and validated, by <see cref="ChatRequestMapper"/>.
/// </summary>
public sealed record ChatCompletionRequest
{
    public string? Model { get; init; }
    public IReadOnlyList<ChatCompletionRequestMessage?>? Messages { get; init; }
    public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }
    public JsonElement Stop { get; init; }
    public long? Seed { get; init; }
    [JsonPropertyName("presence_penalty")] public float? PresencePenalty { get; init; }
    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; init; }
    [JsonPropertyName("response_format")] public JsonElement ResponseFormat { get; init; }
    public IReadOnlyList<ChatCompletionTool?>? Tools { get; init; }
    [JsonPropertyName("tool_choice")] public JsonElement ToolChoice { get; init; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; init; }
    public bool? Stream { get; init; }
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
    public bool? Logprobs { get; init; }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get; init; }
    public int? N { get; init; }
}

public sealed record StreamOptions
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; init; }
}

public sealed record ChatCompletionRequestMessage
{
    public string? Role { get; init; }
    public JsonElement Content { get; init; }
    public string? Name { get; init; }
    [JsonPropertyName("tool_calls")] public IReadOnlyList<ToolCall?>? ToolCalls { get; init; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; init; }
}

public sealed record ChatCompletionTool
{
    public string? Type { get; init; }
    public FunctionDefinition? Function { get; init; }
}

public sealed record FunctionDefinition
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public JsonElement Parameters { get; init; }
    public bool? Strict { get; init; }
}

/// <summary>A tool call, as an assistant message carries it in a request and as a response returns it.</summary>
public sealed record ToolCall
{
    public int? Index { get; init; }
    public string? Id { get; init; }
    public string? Type { get; init; }
    public FunctionCall? Function { get; init; }
}

public sealed record FunctionCall
{
    public string? Name { get; init; }
    public string? Arguments { get; init; }
}
