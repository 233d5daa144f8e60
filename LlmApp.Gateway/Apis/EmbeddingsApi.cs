using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using LlmApp.Gateway.Backend;

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
    internal static async Task<IResult> CreateEmbeddings(
        HttpContext context, IOptions<EmbeddingsOptions> settings, IOptions<RequestLimitsOptions> limits, KeyQuotas quotas,
        IEmbeddingGenerator<EmbeddingInput, Embedding<float>> embeddings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(quotas);
        ArgumentNullException.ThrowIfNull(embeddings);
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (request, inputs, invalid) = await EmbeddingsRequestReader.ReadAsync(context.Request, settings.Value, limits.Value, context.RequestAborted);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var record = context.Features.GetRequiredFeature<CallRecord>();
        var call = new CallContext(record, Operations.Embeddings, settings.Value.Model!, Stream: false, key.Name, key.Limits.MaxConcurrent);
        context.Features.Set(call);
        var (quota, limited) = quotas.Acquire(key, TokenReservation.Embeddings(EstimateTokens(inputs!)), context.Response);
        if (limited is not null)
        {
            return limited.ToResult();
        }

        try
        {
            var vectors = await embeddings.GenerateAsync(inputs!, new GatewayEmbeddingOptions(call) { Dimensions = request!.Dimensions }, context.RequestAborted);
            return new EmbeddingListResult(vectors, call.Model, request.EncodingFormat == "base64");
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
        finally
        {
            quota!.Settle(record);
        }
    }

    /// <summary>The inputs' tokens: given as tokens, counted; given as text, estimated at four characters a token.</summary>
    private static long EstimateTokens(IReadOnlyList<EmbeddingInput> inputs) =>
        inputs.Sum(input => input.Tokens?.Count ?? TokenReservation.EstimatePrompt(input.Text?.Length ?? 0, messages: 0));
}
