using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>Answers an embeddings request with its list of vectors, or, when the call failed, with the failure's error status.</summary>
internal static class EmbeddingsResponder
{
    public static async Task<IResult> RespondAsync(Task<GeneratedEmbeddings<Embedding<float>>> vectors, string model, bool base64, CancellationToken cancellationToken)
    {
        try
        {
            return new EmbeddingListResult(await vectors, model, base64);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }
}
