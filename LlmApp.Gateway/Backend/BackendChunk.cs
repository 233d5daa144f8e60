using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// One event of an OpenAI-compatible stream, with only the fields the gateway reads. An error event is
/// <c>{"error":{...}}</c> (llama-server, OpenAI, newer vLLM) or <c>{"object":"error","message":...}</c> (older vLLM).
/// </summary>
internal sealed record BackendChunk(
    string? Id,
    string? Object,
    long? Created,
    string? Model,
    IReadOnlyList<BackendChoice>? Choices,
    BackendUsage? Usage,
    BackendError? Error,
    string? Message)
{
    /// <summary>The backend's error, if this event is one.</summary>
    public BackendError? Failure => Error ?? (Object == "error" ? new BackendError(Message, null, default) : null);
}

internal sealed record BackendChoice(int Index, BackendDelta? Delta, string? FinishReason);

internal sealed record BackendDelta(string? Content, IReadOnlyList<BackendToolCallDelta>? ToolCalls);

internal sealed record BackendToolCallDelta(int Index, string? Id, BackendFunctionDelta? Function);

internal sealed record BackendFunctionDelta(string? Name, string? Arguments);

internal sealed record BackendUsage(int? PromptTokens, int? CompletionTokens, int? TotalTokens, BackendPromptTokensDetails? PromptTokensDetails);

internal sealed record BackendPromptTokensDetails(int? CachedTokens);

/// <summary>An error object; llama-server gives <c>code</c> as a number, OpenAI and vLLM as a string.</summary>
internal sealed record BackendError(string? Message, string? Type, JsonElement Code);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BackendChunk))]
internal sealed partial class BackendJsonContext : JsonSerializerContext;
