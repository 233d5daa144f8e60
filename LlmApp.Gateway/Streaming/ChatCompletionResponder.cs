using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Answers a request that did not ask to stream with one <c>chat.completion</c>. Any failure, an answer without a
/// finish reason included, is an error status, never a 200 with part of an answer.
/// </summary>
internal static class ChatCompletionResponder
{
    public static Task<IResult> CompleteAsync(Task<ChatResponse> answer, string model, CancellationToken cancellationToken) =>
        AnswerEnding.SingleAsync(answer, response => TypedResults.Json(ChatResponseMapper.ToCompletion(response, model), OpenAIJsonContext.Wire.ChatCompletionResponse),
            cancellationToken);
}
