using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>Source-generated JSON for the gateway's wire types, in OpenAI's snake_case; the per-chunk path uses it too.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ToolCall))]
[JsonSerializable(typeof(CompletionUsage))]
[JsonSerializable(typeof(OpenAIErrorResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(EmbeddingRequest))]
[JsonSerializable(typeof(TokenizeRequest))]
internal sealed partial class OpenAIJsonContext : JsonSerializerContext;
