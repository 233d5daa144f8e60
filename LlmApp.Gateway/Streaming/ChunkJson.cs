using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Writes <c>chat.completion.chunk</c> objects field by field, in the order OpenAI sends them, with pre-encoded names
/// and the stream's id and model encoded once: the per-token path allocates nothing here. The rare chunks (tool calls,
/// usage) use the source-generated serializer for their parts.
/// </summary>
internal sealed class ChunkJson(string id, long created, string model)
{
    private static readonly JsonEncodedText s_id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText s_object = JsonEncodedText.Encode("object");
    private static readonly JsonEncodedText s_chunk = JsonEncodedText.Encode("chat.completion.chunk");
    private static readonly JsonEncodedText s_created = JsonEncodedText.Encode("created");
    private static readonly JsonEncodedText s_model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText s_choices = JsonEncodedText.Encode("choices");
    private static readonly JsonEncodedText s_index = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText s_delta = JsonEncodedText.Encode("delta");
    private static readonly JsonEncodedText s_role = JsonEncodedText.Encode("role");
    private static readonly JsonEncodedText s_assistant = JsonEncodedText.Encode("assistant");
    private static readonly JsonEncodedText s_content = JsonEncodedText.Encode("content");
    private static readonly JsonEncodedText s_toolCalls = JsonEncodedText.Encode("tool_calls");
    private static readonly JsonEncodedText s_type = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText s_function = JsonEncodedText.Encode("function");
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText s_arguments = JsonEncodedText.Encode("arguments");
    private static readonly JsonEncodedText s_finishReason = JsonEncodedText.Encode("finish_reason");
    private static readonly JsonEncodedText s_logprobs = JsonEncodedText.Encode("logprobs");
    private static readonly JsonEncodedText s_usage = JsonEncodedText.Encode("usage");

    private readonly JsonEncodedText _id = JsonEncodedText.Encode(id);
    private readonly JsonEncodedText _model = JsonEncodedText.Encode(model);

    /// <summary>The first chunk: the assistant role, with empty content.</summary>
    public void Role(Utf8JsonWriter json)
    {
        StartChoice(json);
        json.WriteString(s_role, s_assistant);
        json.WriteString(s_content, ""u8);
        EndChoice(json, finishReason: null);
    }

    public void Content(Utf8JsonWriter json, string text)
    {
        StartChoice(json);
        json.WriteString(s_content, text);
        EndChoice(json, finishReason: null);
    }

    /// <summary>Content with the backend's logprobs object for its tokens, passed on as it came.</summary>
    public void Content(Utf8JsonWriter json, string text, ReadOnlySpan<byte> logprobs)
    {
        StartChoice(json);
        json.WriteString(s_content, text);
        EndChoice(json, finishReason: null, logprobs);
    }

    public void ToolCall(Utf8JsonWriter json, ToolCall call)
    {
        StartChoice(json);
        json.WriteStartArray(s_toolCalls);
        JsonSerializer.Serialize(json, call, OpenAIJsonContext.Default.ToolCall);
        json.WriteEndArray();
        EndChoice(json, finishReason: null);
    }

    /// <summary>
    /// A piece of a streamed tool call, as OpenAI sends one: the first piece of a call has its index, id, type and
    /// name (and empty arguments); the next ones its index and more of its arguments.
    /// </summary>
    public void ToolCall(Utf8JsonWriter json, FunctionCallUpdateContent call)
    {
        StartChoice(json);
        json.WriteStartArray(s_toolCalls);
        json.WriteStartObject();
        json.WriteNumber(s_index, call.Index);
        if (call.CallId is { } id)
        {
            json.WriteString(s_id, id);
            json.WriteString(s_type, s_function);
        }

        if (call.Name is not null || call.Arguments is not null)
        {
            json.WriteStartObject(s_function);
            if (call.Name is { } name)
            {
                json.WriteString(s_name, name);
            }

            json.WriteString(s_arguments, call.Arguments ?? "");
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndArray();
        EndChoice(json, finishReason: null);
    }

    /// <summary>The chunk that ends the choice: an empty delta and the finish reason.</summary>
    public void Finish(Utf8JsonWriter json, string finishReason)
    {
        StartChoice(json);
        EndChoice(json, finishReason);
    }

    /// <summary>The last chunk of a stream that asked for usage: no choices, the counts.</summary>
    public void Usage(Utf8JsonWriter json, CompletionUsage usage)
    {
        StartChunk(json);
        json.WriteStartArray(s_choices);
        json.WriteEndArray();
        json.WritePropertyName(s_usage);
        JsonSerializer.Serialize(json, usage, OpenAIJsonContext.Default.CompletionUsage);
        json.WriteEndObject();
    }

    private void StartChunk(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString(s_id, _id);
        json.WriteString(s_object, s_chunk);
        json.WriteNumber(s_created, created);
        json.WriteString(s_model, _model);
    }

    private void StartChoice(Utf8JsonWriter json)
    {
        StartChunk(json);
        json.WriteStartArray(s_choices);
        json.WriteStartObject();
        json.WriteNumber(s_index, 0);
        json.WriteStartObject(s_delta);
    }

    private static void EndChoice(Utf8JsonWriter json, string? finishReason, ReadOnlySpan<byte> logprobs = default)
    {
        json.WriteEndObject();
        if (finishReason is null)
        {
            json.WriteNull(s_finishReason);
        }
        else
        {
            json.WriteString(s_finishReason, finishReason);
        }

        if (logprobs.IsEmpty)
        {
            json.WriteNull(s_logprobs);
        }
        else
        {
            // Bytes the backend's event parsed as one JSON object.
            json.WritePropertyName(s_logprobs);
            json.WriteRawValue(logprobs, skipInputValidation: true);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
