using System.Security.Cryptography;
using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Anthropic;

/// <summary>
/// Anthropic's message object and the events of its stream, written with <see cref="Utf8JsonWriter"/>: <c>message</c>
/// (content blocks <c>text</c> and <c>tool_use</c>, <c>stop_reason</c>, <c>usage</c>), <c>message_start</c>,
/// <c>content_block_start</c> / <c>_delta</c> (<c>text_delta</c>, <c>input_json_delta</c>) / <c>_stop</c>,
/// <c>message_delta</c>, <c>message_stop</c> and <c>ping</c>.
/// </summary>
internal static class MessageJson
{
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";


    /// <summary>A message id as Anthropic makes them: <c>msg_</c> and 24 random letters and digits.</summary>
    public static string MessageId() => "msg_" + RandomNumberGenerator.GetString(IdAlphabet, 24);

    /// <summary>A tool_use id, for a call whose backend gave none: <c>toolu_</c> and 24 random letters and digits.</summary>
    public static string ToolUseId() => "toolu_" + RandomNumberGenerator.GetString(IdAlphabet, 24);

    /// <summary>
    /// Anthropic's <c>stop_reason</c>: <c>end_turn</c>, <c>max_tokens</c>, <c>tool_use</c>, or <c>stop_sequence</c> when
    /// the answer stopped at one of the request's <c>stop_sequences</c> (<paramref name="stopSequence"/>, when known).
    /// </summary>
    public static string StopReason(ChatFinishReason? reason, bool toolCalled, string? stopSequence) => reason switch
    {
        _ when toolCalled => "tool_use",
        { } r when r == ChatFinishReason.Length => "max_tokens",
        { } r when r == ChatFinishReason.ToolCalls => "tool_use",
        { } r when r == ChatFinishReason.ContentFilter => "refusal",
        _ when stopSequence is not null => "stop_sequence",
        _ => "end_turn",
    };

    /// <summary>The whole answer to a request that did not stream.</summary>
    public static void WriteMessage(Utf8JsonWriter json, ChatResponse response, string model, string? stopSequence)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, MessageId());
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, model);
        json.WriteStartArray("content"u8);
        var toolCalled = false;
        foreach (var (text, call) in AnswerParts.Of(response))
        {
            json.WriteStartObject();
            if (call is null)
            {
                json.WriteString("type"u8, "text"u8);
                json.WriteString("text"u8, text);
            }
            else
            {
                toolCalled = true;
                json.WriteString("type"u8, "tool_use"u8);
                json.WriteString("id"u8, call.CallId);
                json.WriteString("name"u8, call.Name);
                json.WritePropertyName("input"u8);
                WriteInput(json, ToolCallArguments.Text(call));
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        var stopReason = StopReason(response.FinishReason, toolCalled, stopSequence);
        json.WriteString("stop_reason"u8, stopReason);
        json.WriteStringOrNull("stop_sequence"u8, stopReason == "stop_sequence" ? stopSequence : null);
        WriteUsage(json, response.Usage);
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>message_start</c>, with the prompt's count where the backend gave it before its first token (llama-server);
    /// otherwise 0, and <c>message_delta</c> carries the counts at the end.
    /// </summary>
    public static void MessageStart(Utf8JsonWriter json, string id, string model, PromptCount? prompt)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "message_start"u8);
        json.WriteStartObject("message"u8);
        json.WriteString("id"u8, id);
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, model);
        json.WriteStartArray("content"u8);
        json.WriteEndArray();
        json.WriteNull("stop_reason"u8);
        json.WriteNull("stop_sequence"u8);
        json.WriteStartObject("usage"u8);
        if (prompt?.Total is { } total)
        {
            json.WriteNumber("input_tokens"u8, total - prompt.Cached);
            json.WriteNumber("cache_creation_input_tokens"u8, 0);
            json.WriteNumber("cache_read_input_tokens"u8, prompt.Cached);
        }
        else
        {
            json.WriteNumber("input_tokens"u8, 0);
        }

        json.WriteNumber("output_tokens"u8, 0);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void Ping(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "ping"u8);
        json.WriteEndObject();
    }

    public static void TextBlockStart(Utf8JsonWriter json, int index)
    {
        BlockStart(json, index);
        json.WriteString("type"u8, "text"u8);
        json.WriteString("text"u8, ""u8);
        BlockStartEnd(json);
    }

    public static void ToolUseBlockStart(Utf8JsonWriter json, int index, string id, string name)
    {
        BlockStart(json, index);
        json.WriteString("type"u8, "tool_use"u8);
        json.WriteString("id"u8, id);
        json.WriteString("name"u8, name);
        json.WriteStartObject("input"u8);
        json.WriteEndObject();
        BlockStartEnd(json);
    }

    public static void TextDelta(Utf8JsonWriter json, int index, string text) => Delta(json, index, "text_delta"u8, "text"u8, text);

    public static void InputJsonDelta(Utf8JsonWriter json, int index, string partialJson) => Delta(json, index, "input_json_delta"u8, "partial_json"u8, partialJson);

    public static void BlockStop(Utf8JsonWriter json, int index)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_stop"u8);
        json.WriteNumber("index"u8, index);
        json.WriteEndObject();
    }

    public static void MessageDelta(Utf8JsonWriter json, string stopReason, string? stopSequence, UsageDetails? usage)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "message_delta"u8);
        json.WriteStartObject("delta"u8);
        json.WriteString("stop_reason"u8, stopReason);
        json.WriteStringOrNull("stop_sequence"u8, stopSequence);
        json.WriteEndObject();
        WriteUsage(json, usage);
        json.WriteEndObject();
    }

    public static void MessageStop(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "message_stop"u8);
        json.WriteEndObject();
    }

    private static void Delta(Utf8JsonWriter json, int index, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, string value)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_delta"u8);
        json.WriteNumber("index"u8, index);
        json.WriteStartObject("delta"u8);
        json.WriteString("type"u8, type);
        json.WriteString(field, value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void BlockStart(Utf8JsonWriter json, int index)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_start"u8);
        json.WriteNumber("index"u8, index);
        json.WriteStartObject("content_block"u8);
    }

    private static void BlockStartEnd(Utf8JsonWriter json)
    {
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A tool call's arguments as the <c>input</c> object: the JSON the model wrote, or an empty object where it is not one (cut short).</summary>
    private static void WriteInput(Utf8JsonWriter json, string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                document.RootElement.WriteTo(json);
                return;
            }
        }
        catch (JsonException)
        {
        }

        json.WriteStartObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>usage</c>: <c>input_tokens</c> are those read anew, <c>cache_read_input_tokens</c> those the backend's prompt cache
    /// held (Anthropic counts the two apart), and <c>output_tokens</c>.
    /// </summary>
    private static void WriteUsage(Utf8JsonWriter json, UsageDetails? usage)
    {
        var cached = usage?.CachedInputTokenCount ?? 0;
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, Math.Max(0, (usage?.InputTokenCount ?? 0) - cached));
        json.WriteNumber("cache_creation_input_tokens"u8, 0);
        json.WriteNumber("cache_read_input_tokens"u8, cached);
        json.WriteNumber("output_tokens"u8, usage?.OutputTokenCount ?? 0);
        json.WriteEndObject();
    }
}
