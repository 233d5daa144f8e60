using System.Buffers;
using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Writes a chat call as an OpenAI Chat Completions request body; a streamed one asks for usage, so that the gateway
/// gets the backend's own counts at the end. Schemas (<c>response_format</c>, tool parameters) are written as they
/// came, byte for byte, with their <c>strict</c>; tool-call arguments in the history as the client wrote them.
/// </summary>
/// <remarks>
/// This writer is why schemas arrive whole. Microsoft.Extensions.AI's OpenAI adapter (<c>OpenAIChatClient</c>, through the
/// OpenAI SDK) runs every schema through <c>AIJsonUtilities.TransformSchema</c> with its strict-mode transform options,
/// which rewrites the schema (keywords such as <c>maxLength</c> or <c>pattern</c> did not reach llama-server's grammar);
/// the adapter has no setting to turn that off, so the gateway does not use it.
/// </remarks>
internal static class BackendRequestWriter
{
    /// <summary>
    /// The body for <paramref name="model"/>. <paramref name="cachePrompt"/> asks llama-server to keep the prompt in the
    /// slot's cache and reuse what matches of it (its default, said outright: prefix-affine routing counts on it).
    /// </summary>
    public static byte[] Write(IEnumerable<ChatMessage> messages, ChatOptions? options, string model, bool stream, bool cachePrompt = false)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, model);
            json.WriteStartArray("messages"u8);
            foreach (var message in messages)
            {
                WriteMessage(json, message);
            }

            json.WriteEndArray();
            if (options is GatewayChatOptions { ContinuesFinalMessage: true })
            {
                // vLLM's (and llama-server's with a Jinja template): go on with the last (assistant) message instead of
                // starting a new turn, and send only the new text. llama-server is asked as a completion instead
                // (BackendChatClient), since its built-in templates close the message whatever this says.
                json.WriteBoolean("continue_final_message"u8, true);
                json.WriteBoolean("add_generation_prompt"u8, false);
            }

            json.WriteBoolean("stream"u8, stream);
            if (stream)
            {
                json.WriteStartObject("stream_options"u8);
                json.WriteBoolean("include_usage"u8, true);
                json.WriteEndObject();
            }

            WriteCache(json, options, cachePrompt);
            WriteReports(json, options, llamaServer: cachePrompt, progress: stream);
            if (options is not null)
            {
                WriteOptions(json, options);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// A streamed completion (<c>/v1/completions</c>) of <paramref name="prompt"/>, the chat template already applied,
    /// with the chat call's sampling and limits: how an answer cut elsewhere is continued on llama-server.
    /// </summary>
    public static byte[] WriteCompletion(string prompt, ChatOptions options, string model, bool cachePrompt)
    {
        ArgumentNullException.ThrowIfNull(options);
        var buffer = new ArrayBufferWriter<byte>(prompt.Length + 256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, model);
            json.WriteString("prompt"u8, prompt);
            json.WriteBoolean("stream"u8, true);
            json.WriteStartObject("stream_options"u8);
            json.WriteBoolean("include_usage"u8, true);
            json.WriteEndObject();
            WriteCache(json, options, cachePrompt);
            WriteReports(json, options, llamaServer: cachePrompt, progress: false);
            WriteOptions(json, options);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// What llama-server (the only kind asked to cache the prompt) is asked to say beside the answer, for the APIs that
    /// report more than the chat API, each only when it is needed: which stop word ended the answer, which it tells only
    /// in its debug field, cut down to that word (one small field on the last event: <see cref="StopSequenceReport"/>);
    /// and, on a stream whose API wants it (<see cref="PromptCount"/>), the prompt's count before the first token.
    /// </summary>
    private static void WriteReports(Utf8JsonWriter json, ChatOptions? options, bool llamaServer, bool progress)
    {
        if (!llamaServer)
        {
            return;
        }

        if (options?.StopSequences is { Count: > 0 })
        {
            json.WriteBoolean("verbose"u8, true);
            json.WriteStartArray("response_fields"u8);
            json.WriteStringValue("stopping_word"u8);
            json.WriteEndArray();
        }

        if (progress && PromptCount.Of(options) is not null)
        {
            json.WriteBoolean("return_progress"u8, true);
        }
    }

    private static void WriteCache(Utf8JsonWriter json, ChatOptions? options, bool cachePrompt)
    {
        if (cachePrompt)
        {
            // The prompt cache may be withheld from this request (Backend:PromptCacheIsolation), never handed to it.
            json.WriteBoolean("cache_prompt"u8, options?.AdditionalProperties?.TryGetValue(ChatOptionKeys.CachePrompt, out bool allowed) != true || allowed);
        }
        else if (options?.AdditionalProperties?.TryGetValue(ChatOptionKeys.CacheSalt, out string? salt) == true && salt is { Length: > 0 })
        {
            // vLLM's (the openai kind): its prefix cache is shared only between requests of one salt.
            json.WriteString("cache_salt"u8, salt);
        }
    }

    private static void WriteMessage(Utf8JsonWriter json, ChatMessage message)
    {
        if (message.Role == ChatRole.Tool)
        {
            // One OpenAI tool message per result.
            foreach (var result in message.Contents.OfType<FunctionResultContent>())
            {
                json.WriteStartObject();
                json.WriteString("role"u8, "tool");
                json.WriteString("tool_call_id"u8, result.CallId);
                json.WriteString("content"u8, result.Result as string ?? JsonSerializer.Serialize(result.Result, AIJsonUtilities.DefaultOptions));
                json.WriteEndObject();
            }

            return;
        }

        json.WriteStartObject();
        json.WriteString("role"u8, message.Role.Value);
        if (message.AuthorName is { Length: > 0 } name)
        {
            json.WriteString("name"u8, name);
        }

        var calls = message.Contents.OfType<FunctionCallContent>().ToList();
        var text = message.Text;
        if (calls.Count > 0 && text.Length == 0)
        {
            json.WriteNull("content"u8);
        }
        else
        {
            json.WriteString("content"u8, text);
        }

        if (calls.Count > 0)
        {
            json.WriteStartArray("tool_calls"u8);
            foreach (var call in calls)
            {
                json.WriteStartObject();
                json.WriteString("id"u8, call.CallId);
                json.WriteString("type"u8, "function");
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, call.Name);
                json.WriteString("arguments"u8, ToolCallArguments.Text(call));
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteOptions(Utf8JsonWriter json, ChatOptions options)
    {
        WriteNumber(json, "temperature"u8, options.Temperature);
        WriteNumber(json, "top_p"u8, options.TopP);
        WriteNumber(json, "top_k"u8, options.TopK);
        WriteNumber(json, "max_tokens"u8, options.MaxOutputTokens);
        WriteNumber(json, "presence_penalty"u8, options.PresencePenalty);
        WriteNumber(json, "frequency_penalty"u8, options.FrequencyPenalty);
        if (options.Seed is { } seed)
        {
            json.WriteNumber("seed"u8, seed);
        }

        if (options.StopSequences is { Count: > 0 } stop)
        {
            json.WriteStartArray("stop"u8);
            foreach (var sequence in stop)
            {
                json.WriteStringValue(sequence);
            }

            json.WriteEndArray();
        }

        if (options.AdditionalProperties is { } additional)
        {
            if (additional.TryGetValue(ChatOptionKeys.Logprobs, out bool logprobs))
            {
                json.WriteBoolean("logprobs"u8, logprobs);
            }

            if (additional.TryGetValue(ChatOptionKeys.TopLogprobs, out int topLogprobs))
            {
                json.WriteNumber("top_logprobs"u8, topLogprobs);
            }
        }

        WriteResponseFormat(json, options.ResponseFormat, options.AdditionalProperties);
        WriteTools(json, options);
    }

    private static void WriteStrict(Utf8JsonWriter json, IReadOnlyDictionary<string, object?>? properties)
    {
        if (properties?.TryGetValue(ChatOptionKeys.StrictJsonSchema, out var value) == true && value is bool strict)
        {
            json.WriteBoolean("strict"u8, strict);
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter json, ChatResponseFormat? format, AdditionalPropertiesDictionary? properties)
    {
        if (format is not ChatResponseFormatJson jsonFormat)
        {
            return;
        }

        json.WriteStartObject("response_format"u8);
        if (jsonFormat.Schema is not { } schema)
        {
            json.WriteString("type"u8, "json_object");
        }
        else
        {
            json.WriteString("type"u8, "json_schema");
            json.WriteStartObject("json_schema"u8);
            json.WriteString("name"u8, jsonFormat.SchemaName ?? "response");
            if (jsonFormat.SchemaDescription is { } description)
            {
                json.WriteString("description"u8, description);
            }

            json.WritePropertyName("schema"u8);
            schema.WriteTo(json);
            WriteStrict(json, properties);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter json, ChatOptions options)
    {
        var functions = options.Tools?.OfType<AIFunctionDeclaration>().ToList();
        if (functions is not { Count: > 0 })
        {
            return;
        }

        json.WriteStartArray("tools"u8);
        foreach (var function in functions)
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "function");
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, function.Name);
            if (!string.IsNullOrEmpty(function.Description))
            {
                json.WriteString("description"u8, function.Description);
            }

            json.WritePropertyName("parameters"u8);
            function.JsonSchema.WriteTo(json);
            WriteStrict(json, function.AdditionalProperties);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        switch (options.ToolMode)
        {
            case NoneChatToolMode:
                json.WriteString("tool_choice"u8, "none");
                break;
            case AutoChatToolMode:
                json.WriteString("tool_choice"u8, "auto");
                break;
            case RequiredChatToolMode { RequiredFunctionName: null }:
                json.WriteString("tool_choice"u8, "required");
                break;
            case RequiredChatToolMode { RequiredFunctionName: { } name }:
                json.WriteStartObject("tool_choice"u8);
                json.WriteString("type"u8, "function");
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, name);
                json.WriteEndObject();
                json.WriteEndObject();
                break;
        }

        if (options.AllowMultipleToolCalls is { } parallel)
        {
            json.WriteBoolean("parallel_tool_calls"u8, parallel);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, ReadOnlySpan<byte> name, float? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, ReadOnlySpan<byte> name, int? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }
}
