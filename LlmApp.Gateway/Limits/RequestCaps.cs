using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Limits;

/// <summary>The caps of <see cref="RequestLimitsOptions"/> applied to one request; each refusal names the cap.</summary>
internal static class RequestCaps
{
    private static GatewayFailure BodyTooLarge(RequestLimitsOptions limits) =>
        GatewayFailure.TooLarge($"The request body is larger than this server's limit of {limits.MaxRequestBodyBytes} bytes (Limits:MaxRequestBodyBytes).");

    /// <summary>
    /// What Kestrel refused as the body was read: too large (a declared length over the cap fails the first read,
    /// before a byte is taken or 100-continue is sent; a chunked body fails at the cap) or arriving too slowly.
    /// </summary>
    public static GatewayFailure? FromBadRequest(BadHttpRequestException exception, RequestLimitsOptions limits) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => BodyTooLarge(limits),
        StatusCodes.Status408RequestTimeout => GatewayFailure.RequestTimeout(
            $"The request body arrived slower than {limits.MinBodyBytesPerSecond} bytes per second (Limits:MinBodyBytesPerSecond)."),
        _ => null,
    };

    public static GatewayFailure? Check(ChatCompletionRequest request, RequestLimitsOptions limits)
    {
        if (request.Messages is { Count: var count } && TooManyMessages("messages", count, limits) is { } tooMany)
        {
            return tooMany;
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

    /// <summary>A list of messages (or input items) longer than <c>Limits:MaxMessages</c>, refused naming its field.</summary>
    public static GatewayFailure? TooManyMessages(string field, int count, RequestLimitsOptions limits) =>
        count > limits.MaxMessages
            ? GatewayFailure.InvalidRequest($"'{field}' has {count} messages; this server takes at most {limits.MaxMessages} (Limits:MaxMessages).", field,
                "too_many_messages")
            : null;

    /// <summary>An output limit over <c>Limits:MaxOutputTokens</c> (0: none), refused naming its parameter.</summary>
    public static GatewayFailure? OverCeiling(string parameter, int? value, RequestLimitsOptions limits) =>
        limits.MaxOutputTokens > 0 && value > limits.MaxOutputTokens ? OverCeiling(parameter, value.Value, limits) : null;

    private static GatewayFailure OverCeiling(string parameter, int value, RequestLimitsOptions limits) =>
        GatewayFailure.InvalidRequest(
            $"'{parameter}' is {value}; this server generates at most {limits.MaxOutputTokens} tokens per request (Limits:MaxOutputTokens).",
            parameter, "max_tokens_exceeded");

    /// <summary>
    /// The prompt's size: message text and tool-call arguments, in UTF-16 characters. Counted on the mapped messages,
    /// whose text is already materialised, so a long prompt is not copied out of the JSON a second time.
    /// </summary>
    public static long CountPrompt(MappedChatRequest request)
    {
        long characters = 0;
        foreach (var message in request.Messages)
        {
            foreach (var content in message.Contents)
            {
                characters += content switch
                {
                    TextContent text => text.Text.Length,
                    FunctionCallContent call => (call.RawRepresentation as string)?.Length ?? 0,
                    _ => 0,
                };
            }
        }

        return characters;
    }

    public static GatewayFailure? CheckPrompt(long characters, RequestLimitsOptions limits) =>
        characters > limits.MaxPromptCharacters
            ? GatewayFailure.InvalidRequest(
                $"The messages hold {characters} characters; this server takes at most {limits.MaxPromptCharacters} (Limits:MaxPromptCharacters).",
                "messages", "prompt_too_long")
            : null;
}
