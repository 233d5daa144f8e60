using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// Maps an OpenAI Responses API request (<c>POST /v1/responses</c>) onto the same <see cref="MappedChatRequest"/> the
/// chat API makes, so that one pipeline serves both: <c>input</c> as a string or items (messages with
/// <c>input_text</c> / <c>output_text</c> parts, <c>function_call</c> and <c>function_call_output</c>),
/// <c>instructions</c>, function <c>tools</c>, <c>tool_choice</c>, <c>parallel_tool_calls</c>, <c>text.format</c>
/// (<c>json_schema</c>, <c>json_object</c>, <c>text</c>), <c>max_output_tokens</c>, <c>temperature</c>, <c>top_p</c>
/// and <c>stream</c>. Tools other than functions (hosted ones such as <c>web_search</c>, and <c>namespace</c> groups) are
/// passed over: this server runs none, and the model is not told of them. The gateway keeps no responses:
/// <c>store: true</c>, <c>background: true</c> and <c>previous_response_id</c> are refused, naming the parameter;
/// <c>metadata</c> (an object) is repeated in the answer; <c>user</c>, <c>truncation</c> and <c>include</c> are passed
/// over, and earlier <c>reasoning</c> items are not sent back to the model.
/// </summary>
internal static class ResponsesRequestMapper
{
    public static bool TryMap(JsonElement body, int? contextLength, [NotNullWhen(true)] out MappedChatRequest? mapped, [NotNullWhen(false)] out RequestError? error)
    {
        mapped = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = new("The request body must be a JSON object.", null);
            return false;
        }

        if (body.TryGetProperty("store", out var store) && store.ValueKind == JsonValueKind.True)
        {
            error = new("This server keeps no responses: set 'store' to false and send the conversation in 'input'.", "store", "store_not_supported");
            return false;
        }

        if (body.TryGetProperty("background", out var background) && background.ValueKind == JsonValueKind.True)
        {
            error = new("This server keeps no responses to poll: a background response needs 'store'; leave 'background' false and stream instead.",
                "background", "store_not_supported");
            return false;
        }

        if (body.TryGetProperty("previous_response_id", out var previous) && previous.ValueKind != JsonValueKind.Null)
        {
            error = new("This server keeps no responses to continue from: send the whole conversation in 'input'.", "previous_response_id", "store_not_supported");
            return false;
        }

        if (body.TryGetProperty("metadata", out var metadata) && metadata.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            error = new("'metadata' must be an object of string values.", "metadata");
            return false;
        }

        var messages = new List<ChatMessage>();
        if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind != JsonValueKind.Null)
        {
            if (instructions.ValueKind != JsonValueKind.String)
            {
                error = new("'instructions' must be a string.", "instructions");
                return false;
            }

            messages.Add(new ChatMessage(ChatRole.System, instructions.GetString()));
        }

        if (!TryReadInput(body, messages, out error) ||
            !TryReadTools(body, out var tools, out var mode, out error) ||
            !TryReadFormat(body, out var format, out var strict, out error))
        {
            return false;
        }

        var options = new ChatOptions
        {
            Tools = tools,
            ToolMode = tools is null ? null : mode,
            ResponseFormat = format,
            AllowMultipleToolCalls = ToolMapper.AllowMultipleCalls(mode,
                body.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind is JsonValueKind.True or JsonValueKind.False ? parallel.GetBoolean() : null),
        };
        if (strict is not null)
        {
            options.AdditionalProperties = new() { [ChatOptionKeys.StrictJsonSchema] = strict.Value };
        }

        if (!TryReadNumbers(body, contextLength, options, out error))
        {
            return false;
        }

        var stream = body.TryGetProperty("stream", out var streamed) && streamed.ValueKind == JsonValueKind.True;
        mapped = new MappedChatRequest(messages, options, stream, IncludeUsage: true);
        return true;
    }

    private static bool TryReadInput(JsonElement body, List<ChatMessage> messages, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (!body.TryGetProperty("input", out var input) || input.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            error = new("'input' is required: a string, or an array of input items.", "input");
            return false;
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            messages.Add(new ChatMessage(ChatRole.User, input.GetString()));
            return true;
        }

        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            error = new("'input' must be a string, or a non-empty array of input items.", "input");
            return false;
        }

        var index = 0;
        foreach (var item in input.EnumerateArray())
        {
            var param = $"input[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                error = new($"'{param}' must be an input item object.", param);
                return false;
            }

            var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "message";
            switch (type)
            {
                case "message":
                    if (!TryReadMessage(item, param, messages, out error))
                    {
                        return false;
                    }

                    break;
                case "function_call":
                    // A call without its call_id is named by its item id, which is what any output for it can have kept.
                    if (!(TryReadString(item, "call_id", param, out var callId, out error) || TryReadString(item, "id", param, out callId, out _)) ||
                        !TryReadString(item, "name", param, out var name, out error))
                    {
                        return false;
                    }

                    if (!TryReadArguments(item, param, callId, name, out var call, out error))
                    {
                        return false;
                    }

                    // Calls of one turn go in one assistant message, as the chat API carries them.
                    if (messages.Count > 0 && messages[^1].Role == ChatRole.Assistant && messages[^1].Contents.All(c => c is FunctionCallContent))
                    {
                        messages[^1].Contents.Add(call);
                    }
                    else
                    {
                        messages.Add(new ChatMessage(ChatRole.Assistant, [call]));
                    }

                    break;
                case "function_call_output":
                    if (!TryReadString(item, "call_id", param, out var resultId, out error))
                    {
                        return false;
                    }

                    var output = item.TryGetProperty("output", out var o) ? o : default;
                    var text = output.ValueKind switch
                    {
                        JsonValueKind.String => output.GetString()!,
                        JsonValueKind.Array => TextOf(output),
                        _ => null,
                    };
                    if (text is null)
                    {
                        error = new($"'{param}.output' must be a string.", $"{param}.output");
                        return false;
                    }

                    messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(resultId, text)]));
                    break;
                case "reasoning":
                    // A model's earlier reasoning: not sent back to the model.
                    break;
                default:
                    error = new($"'{param}.type' '{type}' is not supported: use 'message', 'function_call' or 'function_call_output'.", $"{param}.type");
                    return false;
            }
        }

        return true;
    }

    private static bool TryReadMessage(JsonElement item, string param, List<ChatMessage> messages, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        var role = item.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        ChatRole? chatRole = role switch
        {
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "system" or "developer" => ChatRole.System,
            _ => null,
        };
        if (chatRole is not { } known)
        {
            error = new($"'{param}.role' must be 'user', 'assistant', 'system' or 'developer'.", $"{param}.role");
            return false;
        }

        if (!item.TryGetProperty("content", out var content))
        {
            error = new($"'{param}.content' is required.", $"{param}.content");
            return false;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            messages.Add(new ChatMessage(known, content.GetString()));
            return true;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            error = new($"'{param}.content' must be a string or an array of content parts.", $"{param}.content");
            return false;
        }

        var text = new StringBuilder();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var at = $"{param}.content[{index++}]";
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type is "input_text" or "output_text" or "text" && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
            {
                text.Append(value.GetString());
            }
            else if (type is "refusal")
            {
                continue;
            }
            else
            {
                error = new($"'{at}' is not supported: the served model reads text ('input_text', 'output_text').", at);
                return false;
            }
        }

        messages.Add(new ChatMessage(known, text.ToString()));
        return true;
    }

    private static string? TextOf(JsonElement parts)
    {
        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            text.Append(value.GetString());
        }

        return text.ToString();
    }

    private static bool TryReadString(JsonElement item, string name, string param, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        value = item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
        if (value is null)
        {
            error = new($"'{param}.{name}' is required.", $"{param}.{name}");
            return false;
        }

        return true;
    }

    /// <summary>
    /// A function call's <c>arguments</c>: a JSON object as a string, as the chat API requires them (a chat template
    /// parses them); none at all is no arguments.
    /// </summary>
    private static bool TryReadArguments(JsonElement item, string param, string callId, string name, [NotNullWhen(true)] out FunctionCallContent? call,
        [NotNullWhen(false)] out RequestError? error)
    {
        call = null;
        error = null;
        var given = item.TryGetProperty("arguments", out var a) ? a : default;
        var text = given.ValueKind == JsonValueKind.String ? given.GetString()! : "";
        if (given.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String) || !ToolCallArguments.TryParse(text, out var arguments))
        {
            error = new($"'{param}.arguments' must be a JSON object encoded as a string.", $"{param}.arguments");
            return false;
        }

        // The arguments go on to the backend as the client wrote them, as the chat API's do.
        call = new FunctionCallContent(callId, name, arguments) { RawRepresentation = string.IsNullOrWhiteSpace(text) ? "{}" : text };
        return true;
    }

    private static bool TryReadTools(JsonElement body, out IList<AITool>? tools, out ChatToolMode? mode, [NotNullWhen(false)] out RequestError? error)
    {
        tools = null;
        mode = ChatToolMode.Auto;
        error = null;
        if (body.TryGetProperty("tools", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                error = new("'tools' must be an array.", "tools");
                return false;
            }

            tools = [];
            var index = 0;
            foreach (var tool in list.EnumerateArray())
            {
                var param = $"tools[{index++}]";
                if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                {
                    error = new($"'{param}' must be a tool object with a 'type'.", $"{param}.type");
                    return false;
                }

                if (type.GetString() != "function")
                {
                    // A hosted tool (web_search, file_search, ...) or a namespace of them: this server runs none, and the
                    // model is not told of them, as an agent that offers them everywhere (the Codex CLI) expects of a model without them.
                    continue;
                }

                var name = tool.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                var description = tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                bool? strict = tool.TryGetProperty("strict", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False ? s.GetBoolean() : null;
                if (!ToolMapper.TryDeclare(name, description, tool.TryGetProperty("parameters", out var parameters) ? parameters : default, strict, param,
                        out var declaration, out error))
                {
                    return false;
                }

                tools.Add(declaration);
            }

            if (tools.Count == 0)
            {
                tools = null;
            }
        }

        if (!body.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        switch (choice.ValueKind)
        {
            case JsonValueKind.String when choice.GetString() is "auto":
                mode = ChatToolMode.Auto;
                return true;
            case JsonValueKind.String when choice.GetString() is "none":
                mode = ChatToolMode.None;
                return true;
            case JsonValueKind.String when choice.GetString() is "required" && tools is not null:
                mode = ChatToolMode.RequireAny;
                return true;
            case JsonValueKind.Object when choice.TryGetProperty("name", out var named) && named.ValueKind == JsonValueKind.String &&
                                           tools?.Any(f => f.Name == named.GetString()) == true:
                mode = ChatToolMode.RequireSpecific(named.GetString()!);
                return true;
            default:
                error = new("'tool_choice' must be 'auto', 'none', 'required' or {\"type\":\"function\",\"name\":...} naming a function in 'tools'.", "tool_choice");
                return false;
        }
    }

    private static bool TryReadFormat(JsonElement body, out ChatResponseFormat? format, out bool? strict, [NotNullWhen(false)] out RequestError? error)
    {
        format = null;
        strict = null;
        error = null;
        if (!body.TryGetProperty("text", out var text) || text.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (text.ValueKind != JsonValueKind.Object)
        {
            error = new("'text' must be an object, such as {\"format\":{\"type\":\"json_schema\",\"name\":...,\"schema\":{...}}}.", "text");
            return false;
        }

        return !text.TryGetProperty("format", out var given) || ResponseFormatMapper.TryMapTextFormat(given, out format, out strict, out error);
    }

    private static bool TryReadNumbers(JsonElement body, int? contextLength, ChatOptions options, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (body.TryGetProperty("max_output_tokens", out var max) && max.ValueKind != JsonValueKind.Null)
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var tokens) || tokens < 1)
            {
                error = new("'max_output_tokens' must be an integer of at least 1.", "max_output_tokens");
                return false;
            }

            if (tokens > contextLength)
            {
                error = new($"'max_output_tokens' is {tokens}, beyond this model's context of {contextLength} tokens.", "max_output_tokens", "context_length_exceeded");
                return false;
            }

            options.MaxOutputTokens = tokens;
        }

        foreach (var (name, min, maxValue) in (ReadOnlySpan<(string, double, double)>)[("temperature", 0, 2), ("top_p", 0, 1)])
        {
            if (!body.TryGetProperty(name, out var number) || number.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (number.ValueKind != JsonValueKind.Number || number.GetDouble() < min || number.GetDouble() > maxValue)
            {
                error = new($"'{name}' must be a number from {min} to {maxValue}.", name);
                return false;
            }

            if (name == "temperature")
            {
                options.Temperature = (float)number.GetDouble();
            }
            else
            {
                options.TopP = (float)number.GetDouble();
            }
        }

        return true;
    }
}
