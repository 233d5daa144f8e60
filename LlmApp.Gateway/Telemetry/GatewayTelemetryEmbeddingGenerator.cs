using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Embeddings;
using LlmApp.Gateway.Failures;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Telemetry;

/// <summary>
/// The gateway's metrics for embeddings, on the same instruments as chat with <c>gen_ai.operation.name</c> =
/// <c>embeddings</c>: request duration, input tokens, and upstream errors by <c>error.type</c>. It also tells the request
/// log the model and the counted tokens.
/// </summary>
internal sealed class GatewayTelemetryEmbeddingGenerator(
    IEmbeddingGenerator<EmbeddingInput, Embedding<float>> innerGenerator, GatewayMetrics metrics, TimeProvider time)
    : DelegatingEmbeddingGenerator<EmbeddingInput, Embedding<float>>(innerGenerator)
{
    private static readonly KeyValuePair<string, object?> s_operation = new("gen_ai.operation.name", Operations.Embeddings);

    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<EmbeddingInput> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var call = (options as GatewayEmbeddingOptions)?.Call;
        var arrival = call?.ArrivalTimestamp ?? time.GetTimestamp();
        KeyValuePair<string, object?>[] tags = [s_operation, new("gen_ai.request.model", call?.Model ?? options?.ModelId)];
        try
        {
            var embeddings = await base.GenerateAsync(values, options, cancellationToken);
            if (call is not null)
            {
                call.Usage = embeddings.Usage;
            }

            if (embeddings.Usage?.InputTokenCount is { } input)
            {
                metrics.TokenUsage.Record(input, [.. tags, new("gen_ai.token.type", "input")]);
            }

            metrics.RequestDuration.Record(time.GetElapsedTime(arrival).TotalSeconds, tags);
            return embeddings;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // A request refused for what it asked is the client's error, not the backend's.
            if (ex is not EmbeddingRequestException)
            {
                tags = [.. tags, new("error.type", FailureClassifier.Classify(ex).ErrorType)];
                metrics.UpstreamErrors.Add(1, tags);
            }

            metrics.RequestDuration.Record(time.GetElapsedTime(arrival).TotalSeconds, tags);
            throw;
        }
    }
}
