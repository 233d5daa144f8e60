using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// Validation, before anything else: reads the body, checks the model and every parameter, and maps the request
/// onto Microsoft.Extensions.AI's terms. Whatever is wrong comes back as a 400 or 404 naming the parameter.
/// </summary>
internal static class ChatRequestReader
{
    public static async Task<(MappedChatRequest? Request, GatewayFailure? Refusal)> ReadAsync(
        HttpRequest request, BackendOptions backend, RequestLimitsOptions limits, CancellationToken cancellationToken)
    {
        ChatCompletionRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, OpenAIJsonContext.Default.ChatCompletionRequest, cancellationToken);
        }
        catch (JsonException ex)
        {
            return (null, InvalidJson(ex));
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return (null, refused);
        }

        if (body is null)
        {
            return (null, GatewayFailure.InvalidRequest("The request body must be a JSON object."));
        }

        // What is passed on as written, read only when it is sent on: checked now.
        if (UnicodeText.HasUnpairedSurrogate(body.ResponseFormat) || UnicodeText.HasUnpairedSurrogate(body.ToolChoice) ||
            body.Tools?.Any(tool => tool?.Function is { } function && UnicodeText.HasUnpairedSurrogate(function.Parameters)) == true)
        {
            return (null, InvalidText());
        }

        if (body.Model is { Length: > 0 } model && model != backend.Model)
        {
            return (null, GatewayFailure.ModelNotFound(model));
        }

        if (RequestCaps.Check(body, limits) is { } capped)
        {
            return (null, capped);
        }

        MappedChatRequest? mapped;
        RequestError? error;
        try
        {
            if (!ChatRequestMapper.TryMap(body, backend.ContextLength, out mapped, out error))
            {
                return (null, GatewayFailure.InvalidRequest(error.Message, error.Param, error.Code));
            }
        }
        catch (InvalidOperationException ex) when (IsInvalidText(ex))
        {
            return (null, InvalidText());
        }

        var characters = RequestCaps.CountPrompt(mapped);
        return RequestCaps.CheckPrompt(characters, limits) is { } tooLong ? (null, tooLong) : (mapped with { PromptCharacters = characters }, null);
    }

    /// <summary>
    /// Whether System.Text.Json refused a string's text as it was read out: an escaped surrogate without its pair
    /// (<c>"\ud800"</c>), or bytes that are not UTF-8. Valid JSON, but not text, so parsing lets it through and reading
    /// the string throws.
    /// </summary>
    public static bool IsInvalidText(InvalidOperationException exception) =>
        exception?.TargetSite?.DeclaringType?.Assembly == typeof(JsonDocument).Assembly && exception.Message.Contains("UTF", StringComparison.Ordinal);

    public static GatewayFailure InvalidText() => GatewayFailure.InvalidRequest(
        @"The request holds a string that is not valid Unicode text: an unpaired surrogate escape (such as \ud800) or bytes that are not UTF-8.");

    /// <summary>A body that does not deserialise, as a 400 naming the parameter where it went wrong.</summary>
    public static GatewayFailure InvalidJson(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        // System.Text.Json names where it stopped ("$.messages[0].role"); OpenAI names the parameter ("messages[0].role").
        var param = exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        var message = param is null
            ? "The request body is not valid JSON, or not a JSON object."
            : $"'{param}' has the wrong type or is not valid JSON.";
        return GatewayFailure.InvalidRequest(message, param);
    }
}
