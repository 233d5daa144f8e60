using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;
using LlmApp.Gateway.OpenAI;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Admission as the embeddings pipeline's bottom layer, as <see cref="AdmissionChatClient"/> is for chat: a slot on an
/// embedding server, that server's own pipeline (its deadline, then its wire client), another replica when it fails
/// before answering, the slot held until the answer is back.
/// </summary>
internal sealed class AdmissionEmbeddingGenerator(
    AdmissionControl admission, IReadOnlyDictionary<ModelBackend, IEmbeddingGenerator<EmbeddingInput, Embedding<float>>> backends, GatewayMetrics metrics,
    ResilienceOptions resilience, TimeProvider time)
    : IEmbeddingGenerator<EmbeddingInput, Embedding<float>>
{
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<EmbeddingInput> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var call = GatewayEmbeddingOptions.GetCall(options)
            ?? throw new InvalidOperationException("An embeddings call reaches admission through the gateway's endpoint, with its CallContext.");
        var inputs = values as IReadOnlyList<EmbeddingInput> ?? [.. values];
        using var session = await AdmissionSession.StartAsync(admission, call, new AdmissionRequest(call.Operation, call.Key, TimeSpan.Zero, call.KeyMaxConcurrent),
            resilience.TotalTimeoutBase, metrics, time, cancellationToken);
        while (true)
        {
            try
            {
                var embeddings = await backends[session.Backend].GenerateAsync(inputs, options, cancellationToken);
                CallAnnotations.Annotate(embeddings.AdditionalProperties ??= [], session.Backend.Name, session.Failovers);
                return embeddings;
            }
            catch (Exception ex)
            {
                if (!await session.TryMoveAsync(ex, cancellationToken))
                {
                    CallAnnotations.Annotate(ex, session.Backend.Name, session.Failovers);
                    throw;
                }
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
        // The backends' generators belong to the service provider.
    }
}
