using System.Text.Encodings.Web;
using System.Text.Json;
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
internal sealed partial class OpenAIJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The same contract, writing text as raw UTF-8, as OpenAI does (and as the streamed chunks are written): the default
    /// encoder escapes every non-ASCII character, which triples an answer in Cyrillic or Chinese, and quotes in error
    /// messages. JSON's own characters (quotes, backslashes, controls) are still escaped; nothing here is put into HTML.
    /// </summary>
    /// <remarks>Made on first use: a static initializer here could run before the generated <c>Default</c>'s.</remarks>
    public static OpenAIJsonContext Wire => s_wire ??= new(new JsonSerializerOptions(Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private static OpenAIJsonContext? s_wire;
}
