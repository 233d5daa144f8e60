using System.Text.Json;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;

namespace LlmApp.Gateway.Limits;

/// <summary>The caps of <see cref="RequestLimitsOptions"/> applied to one request; each refusal names the cap.</summary>
internal static class RequestCaps
{
    /// <summary>A body declared larger than the cap: refused before a byte of it is read.</summary>
    public static GatewayFailure? DeclaredBodyTooLarge(HttpRequest request, RequestLimitsOptions limits) =>
        request.ContentLength > limits.MaxRequestBodyBytes ? BodyTooLarge(limits) : null;

    public static GatewayFailure BodyTooLarge(RequestLimitsOptions limits) =>
        GatewayFailure.TooLarge($"The request body is larger than this server's limit of {limits.MaxRequestBodyBytes} bytes (Limits:MaxRequestBodyBytes).");

    /// <summary>What Kestrel refused while the body was read: too large (a chunked body) or arriving too slowly.</summary>
    public static GatewayFailure? FromBadRequest(BadHttpRequestException exception, RequestLimitsOptions limits) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => BodyTooLarge(limits),
        StatusCodes.Status408RequestTimeout => GatewayFailure.RequestTimeout(
            $"The request body arrived slower than {limits.MinBodyBytesPerSecond} bytes per second (Limits:MinBodyBytesPerSecond)."),
        _ => null,
    };

    public static GatewayFailure? Check(ChatCompletionRequest request, RequestLimitsOptions limits)
    {
        if (request.Messages is { Count: var count } && count > limits.MaxMessages)
        {
            return GatewayFailure.InvalidRequest(
                $"'messages' has {count} messages; this server takes at most {limits.MaxMessages} (Limits:MaxMessages).", "messages", "too_many_messages");
        }

        var characters = Characters(request);
        if (characters > limits.MaxPromptCharacters)
        {
            return GatewayFailure.InvalidRequest(
                $"The messages hold {characters} characters; this server takes at most {limits.MaxPromptCharacters} (Limits:MaxPromptCharacters).",
                "messages", "prompt_too_long");
        }

        if (limits.MaxOutputTokens > 0)
        {
            if (request.MaxTokens > limits.MaxOutputTokens)
            {
                return OverCeiling("max_tokens", request.MaxTokens.Value, limits);
            }

            if (request.MaxCompletionTokens > limits.MaxOutputTokens)
            {
                return OverCeiling("max_completion_tokens", request.MaxCompletionTokens.Value, limits);
            }
        }

        return null;
    }

    private static GatewayFailure OverCeiling(string parameter, int value, RequestLimitsOptions limits) =>
        GatewayFailure.InvalidRequest(
            $"'{parameter}' is {value}; this server generates at most {limits.MaxOutputTokens} tokens per request (Limits:MaxOutputTokens).",
            parameter, "max_tokens_exceeded");

    /// <summary>Message text (a string, or the text parts of an array) and tool-call arguments, in UTF-16 characters.</summary>
    private static long Characters(ChatCompletionRequest request)
    {
        long total = 0;
        foreach (var message in request.Messages ?? [])
        {
            if (message is null)
            {
                continue;
            }

            total += Text(message.Content);
            foreach (var call in message.ToolCalls ?? [])
            {
                total += call?.Function?.Arguments?.Length ?? 0;
            }
        }

        return total;
    }

    private static long Text(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!.Length;
            case JsonValueKind.Array:
                long total = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        total += text.GetString()!.Length;
                    }
                }

                return total;
            default:
                return 0;
        }
    }
}
