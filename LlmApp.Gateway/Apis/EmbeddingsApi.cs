using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace LlmApp.Gateway.Apis;

public static class EmbeddingsApi
{
    public static RouteGroupBuilder MapEmbeddingsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/embeddings", CreateEmbeddings).WithRequestLog(Operations.Embeddings);
        return api;
    }

    /// <summary>
    /// <c>POST /v1/embeddings</c>, the same way as chat: the key's requests per minute, validation, the key's tokens, the
    /// embeddings pipeline (spans, metrics, admission on the embedding servers' own slots, each server's deadline and wire
    /// client: see <c>Hosting/EmbeddingsExtensions</c>), then the list, as floats or base64.
    /// </summary>
    internal static async Task<IResult> CreateEmbeddings(HttpContext context, [AsParameters] EmbeddingsServices services)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (services.Quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (request, inputs, invalid) = await EmbeddingsRequestReader.ReadAsync(context.Request, services.Embeddings.Value, services.Limits.Value,
            context.RequestAborted);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var record = context.Features.GetRequiredFeature<CallRecord>();
        var call = new CallContext(record, Operations.Embeddings, services.Embeddings.Value.Model, Stream: false, key.Name, key.Limits.MaxConcurrent);
        context.Features.Set(call);
        var (quota, limited) = services.Quotas.Acquire(key, TokenReservation.Embeddings(EstimateTokens(inputs!)), context.Response);
        if (limited is not null)
        {
            return limited.ToResult();
        }

        var options = new GatewayEmbeddingOptions(call) { Dimensions = request!.Dimensions };
        try
        {
            return await EmbeddingsResponder.RespondAsync(services.Generator.GenerateAsync(inputs!, options, context.RequestAborted), call.Model,
                request.EncodingFormat == "base64", context.RequestAborted);
        }
        finally
        {
            quota!.Settle(record);
        }
    }

    private static long EstimateTokens(IReadOnlyList<EmbeddingInput> inputs) =>
        inputs.Sum(input => input.Tokens?.Count ?? TokenReservation.EstimatePrompt(input.Text?.Length ?? 0, messages: 0));
}
