using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>An OpenAI <c>/v1/embeddings</c> request body; <c>input</c> is a string, strings, token ids or arrays of them.</summary>
public sealed record EmbeddingRequest
{
    public string? Model { get; init; }
    public JsonElement Input { get; init; }
    [JsonPropertyName("encoding_format")] public string? EncodingFormat { get; init; }
    public int? Dimensions { get; init; }
    public string? User { get; init; }
}
