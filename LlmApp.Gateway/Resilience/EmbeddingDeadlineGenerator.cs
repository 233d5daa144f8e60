using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// An embeddings call's deadline, <c>Resilience:TotalTimeoutBase</c> from the request's arrival: past it the call is
/// cancelled, and a <see cref="GenerationTimeoutException"/> says so. In each embedding server's own pipeline, under
/// admission, as <see cref="GenerationDeadlinesChatClient"/> is for chat.
/// </summary>
internal sealed class EmbeddingDeadlineGenerator(IEmbeddingGenerator<EmbeddingInput, Embedding<float>> innerGenerator, ResilienceOptions resilience, TimeProvider time)
    : DelegatingEmbeddingGenerator<EmbeddingInput, Embedding<float>>(innerGenerator)
{
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<EmbeddingInput> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var arrival = GatewayEmbeddingOptions.GetCall(options)?.ArrivalTimestamp ?? time.GetTimestamp();
        var left = resilience.TotalTimeoutBase - time.GetElapsedTime(arrival);
        using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1), time);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await base.GenerateAsync(values, options, call.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new GenerationTimeoutException(GenerationTimeout.Total, ex);
        }
    }
}
