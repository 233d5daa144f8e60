using System.Text.Json;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// Reads the body of a request whose API maps it from its JSON (Responses, Messages), with the checks every API makes
/// alike: valid JSON within the body caps, the served model (404 for another), at most <c>Limits:MaxMessages</c> in its
/// list, the API's own mapping, text that is Unicode, <c>Limits:MaxOutputTokens</c>, and the prompt's size.
/// </summary>
internal static class JsonBodyReader
{
    /// <summary>How an API names its fields for these checks (its flags among them: a boolean or null), and maps the rest.</summary>
    public sealed record Shape(bool ModelRequired, string ListField, string MaxTokensField, string[] Flags,
        Func<JsonElement, (MappedChatRequest? Request, RequestError? Error)> Map);

    public static async Task<(MappedChatRequest? Request, JsonElement Body, GatewayFailure? Refusal)> ReadAsync(
        HttpRequest request, ChatCompletionServices services, Shape shape, CancellationToken cancellationToken)
    {
        var limits = services.Limits.Value;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return (null, default, GatewayFailure.InvalidRequest("The request body is not valid JSON."));
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return (null, default, refused);
        }

        using (document)
        {
            if (UnicodeText.HasUnpairedSurrogate(document.RootElement))
            {
                return (null, default, ChatRequestReader.InvalidText());
            }

            // Kept past the document: what the API repeats of the request in its answer reads it after this returns.
            var body = document.RootElement.Clone();
            return Check(body, services, shape) is { } refused ? (null, body, refused) : Map(body, services, shape);
        }
    }

    private static GatewayFailure? Check(JsonElement body, ChatCompletionServices services, Shape shape)
    {
        var model = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        if (model is not { Length: > 0 })
        {
            return shape.ModelRequired ? GatewayFailure.InvalidRequest("model: Field required.", "model") : null;
        }

        if (model != services.Backend.Value.Model)
        {
            return GatewayFailure.ModelNotFound(model);
        }

        foreach (var flag in shape.Flags)
        {
            // "stream": "yes" is not a stream: a flag of another type is refused rather than read as false.
            if (body.TryGetProperty(flag, out var value) && value.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                return GatewayFailure.InvalidRequest($"'{flag}' must be a boolean.", flag);
            }
        }

        var limits = services.Limits.Value;
        return body.TryGetProperty(shape.ListField, out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > limits.MaxMessages
            ? GatewayFailure.InvalidRequest(
                $"'{shape.ListField}' has {list.GetArrayLength()} items; this server takes at most {limits.MaxMessages} (Limits:MaxMessages).", shape.ListField,
                "too_many_messages")
            : null;
    }

    private static (MappedChatRequest?, JsonElement, GatewayFailure?) Map(JsonElement body, ChatCompletionServices services, Shape shape)
    {
        var limits = services.Limits.Value;
        MappedChatRequest? mapped;
        try
        {
            (mapped, var error) = shape.Map(body);
            if (mapped is null)
            {
                return (null, body, GatewayFailure.InvalidRequest(error!.Message, error.Param, error.Code));
            }
        }
        catch (InvalidOperationException ex) when (ChatRequestReader.IsInvalidText(ex))
        {
            return (null, body, ChatRequestReader.InvalidText());
        }

        if (limits.MaxOutputTokens > 0 && mapped.Options.MaxOutputTokens > limits.MaxOutputTokens)
        {
            return (null, body, GatewayFailure.InvalidRequest(
                $"'{shape.MaxTokensField}' is {mapped.Options.MaxOutputTokens}; this server generates at most {limits.MaxOutputTokens} tokens per request (Limits:MaxOutputTokens).",
                shape.MaxTokensField, "max_tokens_exceeded"));
        }

        var characters = RequestCaps.CountPrompt(mapped);
        return RequestCaps.CheckPrompt(characters, limits) is { } tooLong ? (null, body, tooLong) : (mapped with { PromptCharacters = characters }, body, null);
    }
}
