using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Answers a Responses API request that did not ask to stream with one <c>response</c> object: <c>completed</c>, or
/// <c>incomplete</c> when it ran out of <c>max_output_tokens</c>. Any failure, an answer without a finish reason
/// included, is an error status, never a 200 with part of an answer.
/// </summary>
internal static class ResponsesResponder
{
    public static Task<IResult> RespondAsync(Task<ChatResponse> answer, ResponseHeader header, CancellationToken cancellationToken) =>
        AnswerEnding.SingleAsync(answer, response => JsonWriterResult.Of((response, header), static (json, s) =>
        {
            var (status, incomplete) = ResponseJson.StatusOf(s.response.FinishReason);
            ResponseJson.WriteResponse(json, s.header, status, ResponseJson.ItemsOf(s.response), s.response.Usage, incomplete);
        }), cancellationToken);
}
