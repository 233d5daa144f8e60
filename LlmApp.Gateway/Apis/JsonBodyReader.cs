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
    /// <summary>
    /// How an API names its fields for these checks (its flags among them: a boolean or null), maps the rest, and keeps
    /// what it needs of the body as it came (<paramref name="Keep"/>: a Responses answer repeats some of its request),
    /// read before the parsed body is let go.
    /// </summary>
    public sealed record Shape(bool ModelRequired, string ListField, string MaxTokensField, string[] Flags,
        Func<JsonElement, (MappedChatRequest? Request, RequestError? Error)> Map, Action<JsonElement>? Keep = null);

    public static async Task<(MappedChatRequest? Request, GatewayFailure? Refusal)> ReadAsync(
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
            return (null, GatewayFailure.InvalidRequest("The request body is not valid JSON."));
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return (null, refused);
        }

        using (document)
        {
            // Nothing of the body is used after this: the mapping copies out what it keeps, and so does Keep.
            var body = document.RootElement;
            if (UnicodeText.HasUnpairedSurrogate(body))
            {
                return (null, ChatRequestReader.InvalidText());
            }

            MappedChatRequest? mapped = null;
            var refusal = Check(body, services, shape) ?? Map(body, services, shape, out mapped);
            if (refusal is null)
            {
                shape.Keep?.Invoke(body);
            }

            return (refusal is null ? mapped : null, refusal);
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

        return body.TryGetProperty(shape.ListField, out var list) && list.ValueKind == JsonValueKind.Array
            ? RequestCaps.TooManyMessages(shape.ListField, list.GetArrayLength(), services.Limits.Value)
            : null;
    }

    private static GatewayFailure? Map(JsonElement body, ChatCompletionServices services, Shape shape, out MappedChatRequest? mapped)
    {
        var limits = services.Limits.Value;
        try
        {
            (mapped, var error) = shape.Map(body);
            if (mapped is null)
            {
                return GatewayFailure.InvalidRequest(error!.Message, error.Param, error.Code);
            }
        }
        catch (InvalidOperationException ex) when (ChatRequestReader.IsInvalidText(ex))
        {
            mapped = null;
            return ChatRequestReader.InvalidText();
        }

        if (RequestCaps.OverCeiling(shape.MaxTokensField, mapped.Options.MaxOutputTokens, limits) is { } over)
        {
            mapped = null;
            return over;
        }

        var characters = RequestCaps.CountPrompt(mapped);
        if (RequestCaps.CheckPrompt(characters, limits) is { } tooLong)
        {
            mapped = null;
            return tooLong;
        }

        mapped = mapped with { PromptCharacters = characters };
        return null;
    }
}
