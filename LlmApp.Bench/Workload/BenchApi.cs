using System.Text.Json;

namespace LlmApp.Bench.Workload;

/// <summary>The API a target is asked through: OpenAI's chat completions (the default), OpenAI's Responses API, or Anthropic's Messages API.</summary>
internal enum BenchApi
{
    Chat,
    Responses,
    Messages,
}

/// <summary>What one event of a stream says: a piece of the answer's text, its end, its counts, or a failure.</summary>
internal readonly record struct StreamEvent(string? Text, bool Finished, TokenUsage? Usage, string? Error, bool Done = false);

/// <summary>The counts a server reports: the prompt's tokens (cached ones included), the answer's, and the cached ones.</summary>
internal readonly record struct TokenUsage(int? Prompt, int? Completion, int? Cached);

/// <summary>
/// How each API is asked and read, as its official clients do: the request body, and which events carry the text,
/// the end and the usage. The same messages and limits go out in each shape, so that the APIs can be measured side by
/// side on one server.
/// </summary>
internal static class ApiDialect
{
    public static string Path(BenchApi api) => api switch
    {
        BenchApi.Responses => "responses",
        BenchApi.Messages => "messages",
        _ => "chat/completions",
    };

    public static BenchApi Parse(string text, string option) => text.ToLowerInvariant() switch
    {
        "chat" => BenchApi.Chat,
        "responses" => BenchApi.Responses,
        "messages" => BenchApi.Messages,
        _ => throw new FormatException($"{option}: '{text}' is not an API; use chat, responses or messages."),
    };

    /// <summary>A request body: <paramref name="messages"/> (a system message first, at most), the output limit, sampling and streaming.</summary>
    public static byte[] Body(BenchApi api, string model, IEnumerable<(string Role, string Content)> messages, int maxTokens, bool stream, double temperature,
        bool ignoreEos)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            switch (api)
            {
                case BenchApi.Responses:
                    json.WriteStartArray("input");
                    WriteMessages(json, messages, system: true);
                    json.WriteEndArray();
                    json.WriteNumber("max_output_tokens", maxTokens);
                    break;
                case BenchApi.Messages:
                    var list = messages.ToList();
                    if (list.Count > 0 && list[0].Role == "system")
                    {
                        json.WriteString("system", list[0].Content);
                        list.RemoveAt(0);
                    }

                    json.WriteStartArray("messages");
                    WriteMessages(json, list, system: false);
                    json.WriteEndArray();
                    json.WriteNumber("max_tokens", maxTokens);
                    break;
                default:
                    json.WriteStartArray("messages");
                    WriteMessages(json, messages, system: true);
                    json.WriteEndArray();
                    json.WriteNumber("max_tokens", maxTokens);
                    break;
            }

            json.WriteNumber("temperature", temperature);
            json.WriteBoolean("stream", stream);
            if (stream && api == BenchApi.Chat)
            {
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            if (ignoreEos)
            {
                // llama-server's and vLLM's extension: generate max_tokens whatever the model would say.
                json.WriteBoolean("ignore_eos", true);
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteMessages(Utf8JsonWriter json, IEnumerable<(string Role, string Content)> messages, bool system)
    {
        foreach (var (role, content) in messages)
        {
            if (role == "system" && !system)
            {
                throw new ArgumentException("Anthropic's messages have no system role; the system prompt goes first.", nameof(messages));
            }

            json.WriteStartObject();
            json.WriteString("role", role);
            json.WriteString("content", content);
            json.WriteEndObject();
        }
    }

    /// <summary>One event of a stream, by its data (chat's <c>[DONE]</c> ends it).</summary>
    public static StreamEvent Read(BenchApi api, string data)
    {
        if (data == "[DONE]")
        {
            return new(null, false, null, null, Done: true);
        }

        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        return api switch
        {
            BenchApi.Responses => ReadResponses(root),
            BenchApi.Messages => ReadMessages(root),
            _ => ReadChat(root),
        };
    }

    /// <summary>A whole answer: its counts, or why it is not a whole one.</summary>
    public static (TokenUsage? Usage, string? Error) ReadOne(BenchApi api, JsonElement root)
    {
        var finished = api switch
        {
            BenchApi.Responses => String(root, "status") is "completed" or "incomplete",
            BenchApi.Messages => String(root, "stop_reason") is not null,
            _ => root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0 &&
                String(choices[0], "finish_reason") is not null,
        };
        var usage = root.TryGetProperty("usage", out var counts) && counts.ValueKind == JsonValueKind.Object ? Usage(api, counts) : (TokenUsage?)null;
        return finished ? (usage, null) : (null, "The answer has no finish reason.");
    }

    private static StreamEvent ReadChat(JsonElement root)
    {
        if (root.TryGetProperty("error", out var failure))
        {
            return new(null, false, null, Message(failure));
        }

        string? text = null;
        var finished = false;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            text = choice.TryGetProperty("delta", out var delta) ? String(delta, "content") : null;
            finished = String(choice, "finish_reason") is not null;
        }

        return new(text, finished, root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object ? Usage(BenchApi.Chat, usage) : null, null);
    }

    private static StreamEvent ReadResponses(JsonElement root) => String(root, "type") switch
    {
        "response.output_text.delta" => new(String(root, "delta"), false, null, null),
        "response.completed" or "response.incomplete" => new(null, true,
            root.GetProperty("response").TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object ? Usage(BenchApi.Responses, usage) : null, null),
        "response.failed" => new(null, false, null,
            root.GetProperty("response").TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object ? Message(error) : "response.failed"),
        "error" => new(null, false, null, String(root, "message") ?? "error"),
        _ => default,
    };

    private static StreamEvent ReadMessages(JsonElement root) => String(root, "type") switch
    {
        "content_block_delta" when root.GetProperty("delta") is var delta && String(delta, "type") == "text_delta" => new(String(delta, "text"), false, null, null),
        "message_delta" => new(null, root.TryGetProperty("delta", out var delta) && String(delta, "stop_reason") is not null,
            root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object ? Usage(BenchApi.Messages, usage) : null, null),
        "error" => new(null, false, null, root.TryGetProperty("error", out var error) ? Message(error) : "error"),
        _ => default,
    };

    /// <summary>The counts as each API writes them; Anthropic's input tokens leave out those read from the cache.</summary>
    private static TokenUsage Usage(BenchApi api, JsonElement usage) => api switch
    {
        BenchApi.Responses => new(Int(usage, "input_tokens"), Int(usage, "output_tokens"),
            usage.TryGetProperty("input_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object ? Int(details, "cached_tokens") : null),
        BenchApi.Messages => new(Int(usage, "input_tokens") + (Int(usage, "cache_read_input_tokens") ?? 0), Int(usage, "output_tokens"),
            Int(usage, "cache_read_input_tokens")),
        _ => new(Int(usage, "prompt_tokens"), Int(usage, "completion_tokens"),
            usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object ? Int(details, "cached_tokens") : null),
    };

    private static string? Message(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && String(error, "message") is { } message ? message : error.ToString();

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : null;
}
