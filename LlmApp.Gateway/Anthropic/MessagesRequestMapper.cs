using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Anthropic;

/// <summary>
/// Maps an Anthropic Messages API request (<c>POST /v1/messages</c>, or its <c>count_tokens</c>) onto
/// Microsoft.Extensions.AI's terms, the same <see cref="MappedChatRequest"/> the chat API makes, so that one pipeline
/// serves both: <c>system</c> (a string or text blocks), <c>messages</c> with text, <c>tool_use</c> and
/// <c>tool_result</c> blocks, <c>tools</c> (<c>input_schema</c>), <c>tool_choice</c> (<c>auto</c>, <c>any</c>,
/// <c>tool</c> by name, <c>none</c>; <c>disable_parallel_tool_use</c>), <c>max_tokens</c> (required, as Anthropic
/// requires it), <c>stop_sequences</c>, <c>temperature</c>, <c>top_p</c>, <c>top_k</c> and <c>stream</c>. What is
/// wrong comes back as a <see cref="RequestError"/> naming the field the way Anthropic's errors do (<c>messages.0.content</c>).
/// Fields it has no use for (<c>metadata</c>, <c>service_tier</c>) are passed over; an image or document block is
/// refused, since the served models read text.
/// </summary>
internal static class MessagesRequestMapper
{
    // llama-server looks for every stop string after each token; Anthropic itself takes many, this server a few.
    private const int MaxStopSequences = 8;
    private const int MaxStopLength = 256;

    public static bool TryMap(JsonElement body, bool countOnly, int? contextLength, [NotNullWhen(true)] out MappedChatRequest? mapped,
        [NotNullWhen(false)] out RequestError? error)
    {
        mapped = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = new("The request body must be a JSON object.", null);
            return false;
        }

        var messages = new List<ChatMessage>();
        if (!TryReadSystem(body, messages, out error) || !TryReadMessages(body, messages, out error) ||
            !TryReadTools(body, out var tools, out var mode, out var parallel, out error))
        {
            return false;
        }

        var options = new ChatOptions { Tools = tools, ToolMode = tools is null ? null : mode, AllowMultipleToolCalls = ToolMapper.AllowMultipleCalls(mode, parallel) };
        if (!countOnly && !TryReadGeneration(body, contextLength, options, out error))
        {
            return false;
        }

        var stream = !countOnly && body.TryGetProperty("stream", out var streamed) && streamed.ValueKind == JsonValueKind.True;
        mapped = new MappedChatRequest(messages, options, stream, IncludeUsage: true);
        error = null;
        return true;
    }

    private static bool TryReadSystem(JsonElement body, List<ChatMessage> messages, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (!body.TryGetProperty("system", out var system) || system.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (!TryReadText(system, "system", out var text, out error))
        {
            return false;
        }

        messages.Add(new ChatMessage(ChatRole.System, text));
        return true;
    }

    private static bool TryReadMessages(JsonElement body, List<ChatMessage> messages, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (!body.TryGetProperty("messages", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            error = new("messages: Field required, a non-empty array of messages.", "messages");
            return false;
        }

        var index = 0;
        foreach (var message in list.EnumerateArray())
        {
            var param = $"messages.{index++}";
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) ||
                role.ValueKind != JsonValueKind.String || role.GetString() is not ("user" or "assistant"))
            {
                error = new($"{param}.role: Input should be 'user' or 'assistant'.", $"{param}.role");
                return false;
            }

            if (!message.TryGetProperty("content", out var content))
            {
                error = new($"{param}.content: Field required.", $"{param}.content");
                return false;
            }

            var assistant = role.GetString() == "assistant";
            if (!TryReadContent(content, assistant, $"{param}.content", messages, out error))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// One message's content: a string, or blocks. A user message's <c>tool_result</c> blocks become tool messages ahead
    /// of its text, as the chat API orders them; an assistant's <c>tool_use</c> blocks become its tool calls.
    /// </summary>
    private static bool TryReadContent(JsonElement content, bool assistant, string param, List<ChatMessage> messages, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        var role = assistant ? ChatRole.Assistant : ChatRole.User;
        if (content.ValueKind == JsonValueKind.String)
        {
            messages.Add(new ChatMessage(role, content.GetString()));
            return true;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            error = new($"{param}: Input should be a string or an array of content blocks.", param);
            return false;
        }

        var contents = new List<AIContent>();
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{param}.{index++}";
            var type = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "text" when block.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String:
                    contents.Add(new TextContent(text.GetString()));
                    break;
                case "tool_use" when assistant:
                    if (!TryReadToolUse(block, at, out var call, out error))
                    {
                        return false;
                    }

                    contents.Add(call);
                    break;
                case "tool_result" when !assistant:
                    if (!TryReadToolResult(block, at, out var result, out error))
                    {
                        return false;
                    }

                    messages.Add(new ChatMessage(ChatRole.Tool, [result]));
                    break;
                case "thinking" or "redacted_thinking" when assistant:
                    // A model's earlier reasoning: not sent back to the model, as Anthropic drops it from earlier turns.
                    break;
                case "image" or "document":
                    error = new($"{at}: {type} blocks are not supported; the served model reads text.", at);
                    return false;
                default:
                    error = new($"{at}: Input should be a valid content block ('text'{(assistant ? ", 'tool_use'" : ", 'tool_result'")}).", at);
                    return false;
            }
        }

        if (contents.Count > 0 || !content.EnumerateArray().Any())
        {
            messages.Add(new ChatMessage(role, contents));
        }

        return true;
    }

    private static bool TryReadToolUse(JsonElement block, string param, [NotNullWhen(true)] out FunctionCallContent? call, [NotNullWhen(false)] out RequestError? error)
    {
        call = null;
        error = null;
        if (!block.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } callId ||
            !block.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 } function)
        {
            error = new($"{param}: a tool_use block needs an 'id' and a 'name'.", param);
            return false;
        }

        var input = block.TryGetProperty("input", out var given) ? given : default;
        if (input.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined))
        {
            error = new($"{param}.input: Input should be an object.", $"{param}.input");
            return false;
        }

        call = ToolCallArguments.Call(callId, function, input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}");
        return true;
    }

    private static bool TryReadToolResult(JsonElement block, string param, [NotNullWhen(true)] out FunctionResultContent? result, [NotNullWhen(false)] out RequestError? error)
    {
        result = null;
        error = null;
        if (!block.TryGetProperty("tool_use_id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } callId)
        {
            error = new($"{param}.tool_use_id: Field required.", $"{param}.tool_use_id");
            return false;
        }

        var text = "";
        if (block.TryGetProperty("content", out var content) && content.ValueKind != JsonValueKind.Null &&
            !TryReadText(content, $"{param}.content", out text, out error))
        {
            return false;
        }

        var failed = block.TryGetProperty("is_error", out var isError) && isError.ValueKind == JsonValueKind.True;
        result = new FunctionResultContent(callId, failed ? $"Error: {text}" : text);
        return true;
    }

    /// <summary>A string, or text blocks (joined by blank lines): what <c>system</c> and a tool result may be.</summary>
    private static bool TryReadText(JsonElement value, string param, out string text, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        text = "";
        if (value.ValueKind == JsonValueKind.String)
        {
            text = value.GetString()!;
            return true;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            var joined = new StringBuilder();
            var index = 0;
            foreach (var block in value.EnumerateArray())
            {
                if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String ||
                    type.GetString() != "text" || !block.TryGetProperty("text", out var part) || part.ValueKind != JsonValueKind.String)
                {
                    error = new($"{param}.{index}: Input should be a text block.", $"{param}.{index}");
                    return false;
                }

                joined.Append(joined.Length > 0 ? "\n\n" : "").Append(part.GetString());
                index++;
            }

            text = joined.ToString();
            return true;
        }

        error = new($"{param}: Input should be a string or an array of text blocks.", param);
        return false;
    }

    private static bool TryReadTools(JsonElement body, out IList<AITool>? tools, out ChatToolMode? mode, out bool? parallel, [NotNullWhen(false)] out RequestError? error)
    {
        tools = null;
        mode = ChatToolMode.Auto;
        parallel = null;
        error = null;
        if (body.TryGetProperty("tools", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                error = new("tools: Input should be an array.", "tools");
                return false;
            }

            tools = [];
            var index = 0;
            foreach (var tool in list.EnumerateArray())
            {
                var param = $"tools.{index++}";
                if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var kind) && kind.ValueKind == JsonValueKind.String &&
                    kind.GetString() != "custom" && !tool.TryGetProperty("input_schema", out _))
                {
                    // Anthropic's own tools (web_search_20250305, bash_20250124, text_editor_...): their schemas live in
                    // Anthropic's models and their servers, so this model is not told of them, as the Responses API
                    // passes over hosted tools.
                    continue;
                }

                if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String ||
                    !ToolMapper.IsFunctionName(name.GetString()!))
                {
                    error = new($"{param}.name: 1 to 64 letters, digits, underscores or dashes.", $"{param}.name");
                    return false;
                }

                if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    error = new($"{param}.input_schema: Field required, a JSON Schema object.", $"{param}.input_schema");
                    return false;
                }

                if (!SchemaDepth.IsWithinLimit(schema))
                {
                    error = SchemaDepth.TooDeep($"{param}.input_schema");
                    return false;
                }

                var description = tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                tools.Add(new RequestedFunction(name.GetString()!, description, schema.Clone(), strict: null));
            }

            if (tools.Count == 0)
            {
                tools = null;
            }
        }

        return TryReadToolChoice(body, tools, ref mode, ref parallel, out error);
    }

    private static bool TryReadToolChoice(JsonElement body, IList<AITool>? tools, ref ChatToolMode? mode, ref bool? parallel, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (!body.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (choice.ValueKind != JsonValueKind.Object)
        {
            error = new("tool_choice: Input should be an object: {\"type\": \"auto\"}, \"any\", \"tool\" (with its \"name\") or \"none\".", "tool_choice");
            return false;
        }

        var type = choice.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (choice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True)
        {
            parallel = false;
        }

        switch (type)
        {
            case "auto":
                mode = ChatToolMode.Auto;
                return true;
            case "none":
                mode = ChatToolMode.None;
                return true;
            case "any" when tools is not null:
                mode = ChatToolMode.RequireAny;
                return true;
            case "tool" when tools is not null && choice.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String &&
                             name.GetString() is { } named && tools.Any(f => f.Name == named):
                mode = ChatToolMode.RequireSpecific(named);
                return true;
            case "any" or "tool":
                error = new("tool_choice: names a tool, or asks for any, where 'tools' does not declare it.", "tool_choice");
                return false;
            default:
                error = new("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'.", "tool_choice.type");
                return false;
        }
    }

    private static bool TryReadGeneration(JsonElement body, int? contextLength, ChatOptions options, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (!body.TryGetProperty("max_tokens", out var max) || max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var maxTokens) || maxTokens < 1)
        {
            error = new("max_tokens: Field required, an integer of at least 1.", "max_tokens");
            return false;
        }

        if (maxTokens > contextLength)
        {
            error = new($"max_tokens: {maxTokens} is beyond this model's context of {contextLength} tokens.", "max_tokens", "context_length_exceeded");
            return false;
        }

        options.MaxOutputTokens = maxTokens;
        if (!TryReadNumber(body, "temperature", 0, 1, out var temperature, out error) ||
            !TryReadNumber(body, "top_p", 0, 1, out var topP, out error) ||
            !TryReadNumber(body, "top_k", 0, int.MaxValue, out var topK, out error))
        {
            return false;
        }

        options.Temperature = (float?)temperature;
        options.TopP = (float?)topP;
        options.TopK = topK is { } k ? (int)k : null;
        if (body.TryGetProperty("stop_sequences", out var stop) && stop.ValueKind != JsonValueKind.Null)
        {
            if (stop.ValueKind != JsonValueKind.Array || stop.GetArrayLength() > MaxStopSequences ||
                !stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String && s.GetString()!.Length is > 0 and <= MaxStopLength))
            {
                error = new($"stop_sequences: up to {MaxStopSequences} non-empty strings, each at most {MaxStopLength} characters.", "stop_sequences");
                return false;
            }

            options.StopSequences = [.. stop.EnumerateArray().Select(s => s.GetString()!)];
        }

        return true;
    }

    private static bool TryReadNumber(JsonElement body, string name, double min, double max, out double? value, [NotNullWhen(false)] out RequestError? error)
    {
        value = null;
        error = null;
        if (!body.TryGetProperty(name, out var number) || number.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (number.ValueKind != JsonValueKind.Number || number.GetDouble() is var read && (read < min || read > max))
        {
            error = new($"{name}: Input should be a number from {min} to {max}.", name);
            return false;
        }

        value = number.GetDouble();
        return true;
    }
}
