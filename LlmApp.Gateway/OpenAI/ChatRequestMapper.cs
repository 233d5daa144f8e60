using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>A request the gateway accepted, in Microsoft.Extensions.AI's terms.</summary>
public sealed record MappedChatRequest(IReadOnlyList<ChatMessage> Messages, ChatOptions Options);

/// <summary>A reason to refuse a request with 400, naming the offending parameter as OpenAI does.</summary>
public sealed record RequestError(string Message, string? Param);

/// <summary>
/// Validates an OpenAI Chat Completions request and maps it onto <see cref="ChatMessage"/> and
/// <see cref="ChatOptions"/>, so nothing invalid ever reaches the backend.
/// </summary>
public static class ChatRequestMapper
{
    public static bool TryMap(
        ChatCompletionRequest request,
        [NotNullWhen(true)] out MappedChatRequest? mapped,
        [NotNullWhen(false)] out RequestError? error)
    {
        mapped = null;
        error = Validate(request);
        if (error is not null)
        {
            return false;
        }

        var messages = new List<ChatMessage>(request.Messages!.Count);
        for (var i = 0; i < request.Messages.Count; i++)
        {
            if (!TryMapMessage(request.Messages[i], i, out var message, out error))
            {
                return false;
            }

            messages.Add(message);
        }

        if (!TryReadStop(request.Stop, out var stop, out error))
        {
            return false;
        }

        var options = new ChatOptions
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            MaxOutputTokens = request.MaxCompletionTokens ?? request.MaxTokens,
            StopSequences = stop,
            Seed = request.Seed,
            PresencePenalty = request.PresencePenalty,
            FrequencyPenalty = request.FrequencyPenalty,
        };

        mapped = new MappedChatRequest(messages, options);
        return true;
    }

    private static RequestError? Validate(ChatCompletionRequest request) => request switch
    {
        { Messages: null } => new("'messages' is a required property.", "messages"),
        { Messages.Count: 0 } => new("'messages' must contain at least one message.", "messages"),
        { Temperature: < 0 or > 2 } => new("'temperature' must be between 0 and 2.", "temperature"),
        { TopP: < 0 or > 1 } => new("'top_p' must be between 0 and 1.", "top_p"),
        { MaxTokens: <= 0 } => new("'max_tokens' must be a positive integer.", "max_tokens"),
        { MaxCompletionTokens: <= 0 } => new("'max_completion_tokens' must be a positive integer.", "max_completion_tokens"),
        { PresencePenalty: < -2 or > 2 } => new("'presence_penalty' must be between -2 and 2.", "presence_penalty"),
        { FrequencyPenalty: < -2 or > 2 } => new("'frequency_penalty' must be between -2 and 2.", "frequency_penalty"),
        { N: not null and not 1 } => new("Only n=1 is supported: the backend generates one choice per request.", "n"),
        { Stream: true } => new("Streaming is not supported yet; send 'stream': false.", "stream"),
        _ => null,
    };

    private static bool TryMapMessage(
        ChatCompletionRequestMessage source, int index,
        [NotNullWhen(true)] out ChatMessage? message,
        [NotNullWhen(false)] out RequestError? error)
    {
        message = null;
        var param = $"messages[{index}]";

        ChatRole? role = source.Role switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            _ => null,
        };

        if (role is null)
        {
            error = source.Role is null
                ? new($"'{param}.role' is a required property.", $"{param}.role")
                : new($"'{source.Role}' is not a supported role: use 'system', 'developer', 'user' or 'assistant'.", $"{param}.role");
            return false;
        }

        if (!TryReadContent(source.Content, $"{param}.content", out var text, out error))
        {
            return false;
        }

        message = new ChatMessage(role.Value, text) { AuthorName = source.Name };
        return true;
    }

    private static bool TryReadContent(
        JsonElement content, string param,
        [NotNullWhen(true)] out string? text,
        [NotNullWhen(false)] out RequestError? error)
    {
        text = null;
        error = null;
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                text = content.GetString()!;
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
                        error = new($"Only text parts ({{\"type\":\"text\",\"text\":\"...\"}}) are supported in '{param}'.", param);
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

    private static bool TryReadStop(JsonElement stop, out IList<string>? sequences, [NotNullWhen(false)] out RequestError? error)
    {
        sequences = null;
        error = null;
        switch (stop.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;

            case JsonValueKind.String:
                sequences = [stop.GetString()!];
                return true;

            case JsonValueKind.Array when stop.GetArrayLength() <= 4 && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String):
                sequences = [.. stop.EnumerateArray().Select(s => s.GetString()!)];
                return true;

            default:
                error = new("'stop' must be a string or an array of up to 4 strings.", "stop");
                return false;
        }
    }
}
