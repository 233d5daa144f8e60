using System.Text.Json;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// Validation of an embeddings request, as <see cref="ChatRequestReader"/> is for chat: the body read and mapped onto
/// the inputs the pipeline embeds, or a 400 or 404 naming what is wrong.
/// </summary>
internal static class EmbeddingsRequestReader
{
    public static async Task<(EmbeddingRequest? Request, List<EmbeddingInput>? Inputs, GatewayFailure? Refusal)> ReadAsync(
        HttpRequest http, EmbeddingsOptions options, RequestLimitsOptions limits, CancellationToken cancellationToken)
    {
        EmbeddingRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(http.Body, OpenAIJsonContext.Default.EmbeddingRequest, cancellationToken);
        }
        catch (JsonException ex)
        {
            return (null, null, ChatRequestReader.InvalidJson(ex));
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return (null, null, refused);
        }

        if (request is null)
        {
            return (null, null, GatewayFailure.InvalidRequest("The request body must be a JSON object."));
        }

        if (!options.IsEnabled || (request.Model is { Length: > 0 } model && model != options.Model))
        {
            // No embedding model (Llm:EmbeddingModel unset), or another model's name: as OpenAI answers an unknown model.
            return (null, null, GatewayFailure.ModelNotFound(request.Model ?? ""));
        }

        try
        {
            return EmbeddingRequestMapper.TryMap(request, options.Matryoshka, out var inputs, out var error)
                ? (request, inputs, null)
                : (null, null, GatewayFailure.InvalidRequest(error.Message, error.Param, error.Code));
        }
        catch (InvalidOperationException ex) when (ChatRequestReader.IsInvalidText(ex))
        {
            return (null, null, ChatRequestReader.InvalidText());
        }
    }
}
