using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Telemetry;

/// <summary>
/// The gateway's metrics for embeddings, on the same instruments as chat with <c>gen_ai.operation.name</c> =
/// <c>embeddings</c>: request duration, input tokens, and upstream errors by <c>error.type</c>. It writes the request's
/// <see cref="CallRecord"/> as <see cref="GatewayTelemetryChatClient"/> does for chat.
/// </summary>
internal sealed class GatewayTelemetryEmbeddingGenerator(
    IEmbeddingGenerator<EmbeddingInput, Embedding<float>> innerGenerator, GatewayMetrics metrics, TimeProvider time)
    : DelegatingEmbeddingGenerator<EmbeddingInput, Embedding<float>>(innerGenerator)
{
    private static readonly KeyValuePair<string, object?> s_operation = new("gen_ai.operation.name", Operations.Embeddings);

    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<EmbeddingInput> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var call = GatewayEmbeddingOptions.GetCall(options);
        var arrival = call?.ArrivalTimestamp ?? time.GetTimestamp();
        KeyValuePair<string, object?>[] tags = [s_operation, new("gen_ai.request.model", call?.Model ?? options?.ModelId)];
        try
        {
            var embeddings = await base.GenerateAsync(values, options, cancellationToken);
            var (backend, failovers) = CallAnnotations.Read(embeddings.AdditionalProperties);
            Write(call, backend, failovers, embeddings.Usage, error: null);
            if (backend is not null)
            {
                tags = [.. tags, new("llmapp.backend", backend)];
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
            var (backend, failovers) = CallAnnotations.Read(ex);
            var errorType = FailureClassifier.Classify(ex).ErrorType;
            Write(call, backend, failovers, usage: null, errorType);
            // A request refused for what it asked, or turned away before a backend, is no backend's failure.
            if (ex is not CallRefusedException)
            {
                tags = [.. tags, new("error.type", errorType)];
                metrics.UpstreamErrors.Add(1, tags);
                metrics.RequestDuration.Record(time.GetElapsedTime(arrival).TotalSeconds, tags);
            }

            throw;
        }
    }

    private static void Write(CallContext? call, string? backend, int failovers, UsageDetails? usage, string? error)
    {
        if (call?.Record is { } record)
        {
            record.Backend = backend;
            record.Failovers = failovers;
            record.Usage = usage;
            record.Error ??= error;
        }
    }
}
