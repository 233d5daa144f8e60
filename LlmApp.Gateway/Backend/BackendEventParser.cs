using System.Text.Json;
using LlmApp.Gateway.Streaming;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Reads one SSE event's data with <see cref="Utf8JsonReader"/>, picking out the few fields the gateway uses and
/// skipping the rest (llama-server's timings, fingerprints); a choice's logprobs are kept as raw JSON. The id and model repeat in every event of a
/// stream, so their strings are made once and reused. An error event is <c>{"error":{...}}</c> (llama-server, OpenAI,
/// newer vLLM) or <c>{"object":"error","message":...}</c> (older vLLM). Anything that is not a JSON object throws
/// <see cref="JsonException"/>.
/// </summary>
/// <remarks>
/// Each loop reads a property's name, then its value, then either reads the value or skips it (which skips an
/// object's or array's contents and does nothing for a scalar), so a field of an unexpected type is passed over.
/// </remarks>
internal sealed class BackendEventParser
{
    // The property names each level looks for; Name() returns the index of the one it finds.
    private static readonly byte[][] s_event = Names("choices", "id", "model", "created", "usage", "error", "object", "message", "timings", "__verbose", "prompt_progress");
    // "text": a completion's (a continuation asked of llama-server as one). "stop_reason": vLLM's, the stop string that
    // ended the answer (or a token id).
    private static readonly byte[][] s_choice = Names("delta", "finish_reason", "message", "logprobs", "text", "stop_reason");
    private static readonly byte[][] s_delta = Names("content", "tool_calls");
    private static readonly byte[][] s_toolCall = Names("index", "id", "function");
    private static readonly byte[][] s_function = Names("name", "arguments");
    private static readonly byte[][] s_timings = Names("prompt_n", "prompt_ms", "predicted_n", "predicted_ms", "cache_n");
    private static readonly byte[][] s_usage = Names("prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details");

    private string? _id;
    private string? _model;
    private string? _stopSequence;

    public BackendEvent Parse(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return new BackendEvent(Done: true, null, null, null, null, null, null, null, null, null);
        }

        var reader = new Utf8JsonReader(data);
        if (Next(ref reader) != JsonTokenType.StartObject)
        {
            throw new JsonException("The event is not a JSON object.");
        }

        long? created = null;
        BackendTimings? timings = null;
        PromptProgress? progress = null;
        string? content = null, finishReason = null, error = null, message = null;
        var isErrorObject = false;
        List<ToolCallDelta>? toolCalls = null;
        byte[]? logprobs = null;
        BackendUsage? usage = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader, s_event);
            var value = Next(ref reader);
            switch (name)
            {
                case 0 when value == JsonTokenType.StartArray:
                    ReadChoices(ref reader, data, ref content, ref finishReason, ref toolCalls, ref logprobs, ref _stopSequence);
                    break;
                case 1:
                    _id = Reuse(ref reader, _id);
                    break;
                case 2:
                    _model = Reuse(ref reader, _model);
                    break;
                case 3 when value == JsonTokenType.Number && reader.TryGetInt64(out var seconds):
                    created = seconds;
                    break;
                case 4 when value == JsonTokenType.StartObject:
                    usage = ReadUsage(ref reader);
                    break;
                case 5 when value == JsonTokenType.StartObject:
                    error = ReadErrorMessage(ref reader);
                    break;
                case 5 when value == JsonTokenType.String:
                    error = reader.GetString();
                    break;
                case 6:
                    isErrorObject = value == JsonTokenType.String && reader.ValueTextEquals("error"u8);
                    Skip(ref reader);
                    break;
                case 7 when value == JsonTokenType.String:
                    message = reader.GetString();
                    break;
                case 8 when value == JsonTokenType.StartObject:
                    timings = ReadTimings(ref reader);
                    break;
                case 9 when value == JsonTokenType.StartObject:
                    // llama-server's, on the first event of its last batch, which may come before the finish reason's.
                    ReadStoppingWord(ref reader);
                    break;
                case 10 when value == JsonTokenType.StartObject:
                    progress = ReadProgress(ref reader);
                    break;
                default:
                    Skip(ref reader);
                    break;
            }
        }

        error ??= isErrorObject ? message ?? "" : null;
        if (usage is not null && timings is not null)
        {
            usage = usage with { Timings = timings };
        }

        return new BackendEvent(false, _id, _model, created, content, finishReason, toolCalls, logprobs, usage, error,
            finishReason is null ? null : _stopSequence, progress);
    }

    /// <summary>
    /// The first choice's content, finish reason, tool calls and logprobs; the gateway asks for one choice (n = 1). The
    /// logprobs object is kept as the JSON it is, to be passed on untouched.
    /// </summary>
    private static void ReadChoices(
        ref Utf8JsonReader reader, ReadOnlySpan<byte> data, ref string? content, ref string? finishReason, ref List<ToolCallDelta>? toolCalls, ref byte[]? logprobs,
        ref string? stopSequence)
    {
        var first = true;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (!first || reader.TokenType != JsonTokenType.StartObject)
            {
                Skip(ref reader);
                continue;
            }

            first = false;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                var name = Name(ref reader, s_choice);
                var value = Next(ref reader);
                switch (name)
                {
                    // A stream's choice has a delta; a whole answer's has the message.
                    case 0 or 2 when value == JsonTokenType.StartObject:
                        ReadDelta(ref reader, ref content, ref toolCalls);
                        break;
                    case 1 when value == JsonTokenType.String:
                        finishReason = reader.GetString();
                        break;
                    case 3 when value == JsonTokenType.StartObject:
                        var start = (int)reader.TokenStartIndex;
                        Skip(ref reader);
                        logprobs = CompactJson.Of(data[start..(int)reader.BytesConsumed]);
                        break;
                    case 4 when value == JsonTokenType.String:
                        content = reader.GetString();
                        break;
                    case 5 when value == JsonTokenType.String:
                        stopSequence = reader.GetString();
                        break;
                    default:
                        Skip(ref reader);
                        break;
                }
            }
        }
    }

    /// <summary>llama-server's <c>prompt_progress</c>: <c>total</c> and <c>cache</c>, the rest passed over.</summary>
    private static PromptProgress? ReadProgress(ref Utf8JsonReader reader)
    {
        int? total = null, cached = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isTotal = reader.ValueTextEquals("total"u8);
            var isCache = reader.ValueTextEquals("cache"u8);
            if (Next(ref reader) == JsonTokenType.Number && reader.TryGetInt32(out var number))
            {
                total = isTotal ? number : total;
                cached = isCache ? number : cached;
            }
            else
            {
                Skip(ref reader);
            }
        }

        return total is { } t ? new PromptProgress(t, cached ?? 0) : null;
    }

    /// <summary>llama-server's <c>__verbose</c>, cut down to <c>{"stopping_word": ...}</c>; empty when no stop word ended it.</summary>
    private void ReadStoppingWord(ref Utf8JsonReader reader)
    {
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isWord = reader.ValueTextEquals("stopping_word"u8);
            if (Next(ref reader) == JsonTokenType.String && isWord && reader.ValueSpan.Length > 0)
            {
                _stopSequence = reader.GetString();
            }
            else
            {
                Skip(ref reader);
            }
        }
    }

    private static void ReadDelta(ref Utf8JsonReader reader, ref string? content, ref List<ToolCallDelta>? toolCalls)
    {
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader, s_delta);
            var value = Next(ref reader);
            switch (name)
            {
                case 0 when value == JsonTokenType.String:
                    content = reader.GetString();
                    break;
                case 1 when value == JsonTokenType.StartArray:
                    toolCalls ??= [];
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            // A whole answer's tool calls have no index: their place in the list is it.
                            toolCalls.Add(ReadToolCall(ref reader, toolCalls.Count));
                        }
                        else
                        {
                            Skip(ref reader);
                        }
                    }

                    break;
                default:
                    Skip(ref reader);
                    break;
            }
        }
    }

    private static ToolCallDelta ReadToolCall(ref Utf8JsonReader reader, int position)
    {
        var index = position;
        string? id = null, name = null, arguments = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var property = Name(ref reader, s_toolCall);
            var value = Next(ref reader);
            switch (property)
            {
                case 0 when value == JsonTokenType.Number && reader.TryGetInt32(out var number):
                    index = number;
                    break;
                case 1 when value == JsonTokenType.String:
                    id = reader.GetString();
                    break;
                case 2 when value == JsonTokenType.StartObject:
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        var field = Name(ref reader, s_function);
                        var text = Next(ref reader) == JsonTokenType.String ? reader.GetString() : null;
                        switch (field)
                        {
                            case 0:
                                name = text;
                                break;
                            case 1:
                                arguments = text;
                                break;
                        }

                        Skip(ref reader);
                    }

                    break;
                default:
                    Skip(ref reader);
                    break;
            }
        }

        return new ToolCallDelta(index, id, name, arguments);
    }

    private static BackendUsage ReadUsage(ref Utf8JsonReader reader)
    {
        int? prompt = null, completion = null, total = null, cached = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader, s_usage);
            var value = Next(ref reader);
            var number = value == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : (int?)null;
            switch (name)
            {
                case 0:
                    prompt = number;
                    break;
                case 1:
                    completion = number;
                    break;
                case 2:
                    total = number;
                    break;
                case 3 when value == JsonTokenType.StartObject:
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        var isCached = reader.ValueTextEquals("cached_tokens"u8);
                        if (Next(ref reader) == JsonTokenType.Number && isCached && reader.TryGetInt32(out var c))
                        {
                            cached = c;
                        }

                        Skip(ref reader);
                    }

                    break;
                default:
                    Skip(ref reader);
                    break;
            }
        }

        return new BackendUsage(prompt, completion, total, cached);
    }

    /// <summary>llama-server's <c>timings</c>: prompt and predicted tokens and milliseconds, and the cached prompt tokens.</summary>
    private static BackendTimings? ReadTimings(ref Utf8JsonReader reader)
    {
        double promptMs = 0, predictedMs = 0;
        int promptTokens = 0, predictedTokens = 0;
        int? cached = null;
        var any = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader, s_timings);
            if (Next(ref reader) == JsonTokenType.Number && name >= 0 && reader.TryGetDouble(out var value))
            {
                any = true;
                switch (name)
                {
                    case 0:
                        promptTokens = (int)value;
                        break;
                    case 1:
                        promptMs = value;
                        break;
                    case 2:
                        predictedTokens = (int)value;
                        break;
                    case 3:
                        predictedMs = value;
                        break;
                    default:
                        cached = (int)value;
                        break;
                }
            }

            Skip(ref reader);
        }

        return any ? new BackendTimings(promptTokens, promptMs, predictedTokens, predictedMs, cached) : null;
    }

    /// <summary>An error object's message (its other fields say nothing the client can act on); "" when it has none.</summary>
    private static string ReadErrorMessage(ref Utf8JsonReader reader)
    {
        var message = "";
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isMessage = reader.ValueTextEquals("message"u8);
            if (Next(ref reader) == JsonTokenType.String && isMessage)
            {
                message = reader.GetString() ?? "";
            }

            Skip(ref reader);
        }

        return message;
    }

    /// <summary>Which of <paramref name="names"/> the current property name is; -1 for none.</summary>
    private static int Name(ref Utf8JsonReader reader, byte[][] names)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (reader.ValueTextEquals(names[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static byte[][] Names(params string[] names) => [.. names.Select(System.Text.Encoding.UTF8.GetBytes)];

    /// <summary>The current string, as <paramref name="previous"/> when it has the same text (the id and model of every event).</summary>
    private static string? Reuse(ref Utf8JsonReader reader, string? previous)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            Skip(ref reader);
            return null;
        }

        return previous is not null && reader.ValueTextEquals(previous) ? previous : reader.GetString();
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("The event ended in the middle of its JSON.");

    /// <summary>Skips the current value: an object's or array's contents; nothing for a scalar.</summary>
    private static void Skip(ref Utf8JsonReader reader)
    {
        if (!reader.TrySkip())
        {
            throw new JsonException("The event ended in the middle of its JSON.");
        }
    }
}
