using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// How every API's writer ends an answer that failed, the one rule for all of them: before the first byte, the
/// failure's own status (in the API's error shape, which <see cref="GatewayFailure"/> picks); after it, the API's last
/// event says so; and a single answer without a finish reason is a failure, never a 200 with part of an answer.
/// </summary>
internal static class AnswerEnding
{
    /// <summary>Writes a stream with <paramref name="writeEvents"/>; if it fails, ends it with <paramref name="writeLastEvent"/>, or the status.</summary>
    public static async Task<IResult> StreamAsync(SseWriter writer, Func<Task> writeEvents, Func<GatewayFailure, ValueTask> writeLastEvent,
        CancellationToken cancellationToken)
    {
        try
        {
            await writeEvents();
            return Results.Empty;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            var failure = FailureClassifier.Classify(ex);
            if (!writer.Started)
            {
                return failure.ToResult();
            }

            await writeLastEvent(failure);
            return Results.Empty;
        }
    }

    /// <summary>The answer's finish reason; an answer without one is not a whole one, and fails.</summary>
    public static ChatFinishReason Finished(ChatFinishReason? reason) =>
        reason ?? throw new IncompleteResponseException("The answer ended without a finish reason.");

    /// <summary>The answer to a request that did not stream, written by <paramref name="write"/>; its failure's status otherwise.</summary>
    public static async Task<IResult> SingleAsync(Task<ChatResponse> answer, Func<ChatResponse, IResult> write, CancellationToken cancellationToken)
    {
        try
        {
            var response = await answer;
            Finished(response.FinishReason);
            return write(response);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }
}
