using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Answers a request that did not ask to stream: the pipeline's updates (streamed from the backend all the same,
/// so that its deadlines apply) are gathered into one <c>chat.completion</c>. Any failure, a cut stream included,
/// is an error status, never a 200 with part of an answer.
/// </summary>
internal static class ChatCompletionAggregator
{
    public static async Task<IResult> CompleteAsync(IAsyncEnumerable<ChatResponseUpdate> updates, string model, CancellationToken cancellationToken)
    {
        try
        {
            var response = await updates.ToChatResponseAsync(cancellationToken);
            if (response.FinishReason is null)
            {
                throw new IncompleteResponseException("The answer ended without a finish reason.");
            }

            return TypedResults.Json(ChatResponseMapper.ToCompletion(response, model), OpenAIJsonContext.Default.ChatCompletionResponse);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }
}
