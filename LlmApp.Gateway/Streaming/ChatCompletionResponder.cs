using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Answers a request that did not ask to stream with one <c>chat.completion</c>. Any failure, an answer without a
/// finish reason included, is an error status, never a 200 with part of an answer.
/// </summary>
internal static class ChatCompletionResponder
{
    public static async Task<IResult> CompleteAsync(Task<ChatResponse> answer, string model, CancellationToken cancellationToken)
    {
        try
        {
            var response = await answer;
            if (response.FinishReason is null)
            {
                throw new IncompleteResponseException("The answer ended without a finish reason.");
            }

            return TypedResults.Json(ChatResponseMapper.ToCompletion(response, model), OpenAIJsonContext.Wire.ChatCompletionResponse);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }
}
