using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>Maps one OpenAI chat message (system, developer, user, assistant with tool calls, tool) onto a <see cref="ChatMessage"/>.</summary>
internal static class MessageMapper
{
    public static bool TryMap(
        ChatCompletionRequestMessage? source, string param,
        [NotNullWhen(true)] out ChatMessage? message,
        [NotNullWhen(false)] out RequestError? error)
    {
        message = null;
        if (source is null)
        {
            error = new($"'{param}' must be an object.", param);
            return false;
        }

        switch (source.Role)
        {
            case "system" or "developer" or "user":
                if (!TryReadText(source.Content, $"{param}.content", required: true, out var text, out error))
                {
                    return false;
                }

                message = new ChatMessage(source.Role == "user" ? ChatRole.User : ChatRole.System, text) { AuthorName = source.Name };
                return true;

            case "assistant":
                return TryMapAssistant(source, param, out message, out error);

            case "tool":
                if (string.IsNullOrEmpty(source.ToolCallId))
                {
                    error = new($"'{param}.tool_call_id' is required for a tool message.", $"{param}.tool_call_id");
                    return false;
                }

                if (!TryReadText(source.Content, $"{param}.content", required: true, out var result, out error))
                {
                    return false;
                }

                message = new ChatMessage(ChatRole.Tool, [new FunctionResultContent(source.ToolCallId, result)]);
                return true;

            case null:
                error = new($"'{param}.role' is a required property.", $"{param}.role");
                return false;

            default:
                error = new($"'{source.Role}' is not a valid role: use 'system', 'developer', 'user', 'assistant' or 'tool'.", $"{param}.role");
                return false;
        }
    }

    private static bool TryMapAssistant(
        ChatCompletionRequestMessage source, string param,
        [NotNullWhen(true)] out ChatMessage? message,
        [NotNullWhen(false)] out RequestError? error)
    {
        message = null;
        var hasToolCalls = source.ToolCalls is { Count: > 0 };
        if (!TryReadText(source.Content, $"{param}.content", required: !hasToolCalls, out var text, out error))
        {
            return false;
        }

        var contents = new List<AIContent>();
        if (!string.IsNullOrEmpty(text))
        {
            contents.Add(new TextContent(text));
        }

        for (var i = 0; i < (source.ToolCalls?.Count ?? 0); i++)
        {
            var call = source.ToolCalls![i];
            var callParam = $"{param}.tool_calls[{i}]";
            if (call is not { Id.Length: > 0, Function.Name.Length: > 0 } || call.Type is not (null or "function"))
            {
                error = new($"'{callParam}' must have an 'id', type 'function' and a 'function.name'.", callParam);
                return false;
            }

            if (!ToolCallArguments.TryParse(call.Function.Arguments, out var arguments))
            {
                error = new($"'{callParam}.function.arguments' must be a JSON object encoded as a string.", $"{callParam}.function.arguments");
                return false;
            }

            // The arguments go on to the backend as the client wrote them.
            contents.Add(new FunctionCallContent(call.Id, call.Function.Name, arguments) { RawRepresentation = call.Function.Arguments ?? "" });
        }

        message = new ChatMessage(ChatRole.Assistant, contents) { AuthorName = source.Name };
        return true;
    }

    private static bool TryReadText(
        JsonElement content, string param, bool required,
        out string? text,
        [NotNullWhen(false)] out RequestError? error)
    {
        text = null;
        error = null;
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                text = content.GetString()!;
                return true;

            case JsonValueKind.Undefined or JsonValueKind.Null when !required:
                return true;

            case JsonValueKind.Array:
                var builder = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object ||
                        !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                    {
                        error = new($"Each part of '{param}' must be an object with a 'type'.", param);
                        return false;
                    }

                    if (type.GetString() != "text" ||
                        !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                    {
                        error = new($"Only text parts ({{\"type\":\"text\",\"text\":\"...\"}}) are supported in '{param}': this model reads text only.", param);
                        return false;
                    }

                    builder.Append(partText.GetString());
                }

                text = builder.ToString();
                return true;

            default:
                error = new($"'{param}' must be a string or an array of text parts.", param);
                return false;
        }
    }
}
