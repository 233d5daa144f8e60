using LlmApp.Gateway.Anthropic;
using LlmApp.Gateway.Backend;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Answers an Anthropic request that did not ask to stream with one <c>message</c>. Any failure, an answer without a
/// finish reason included, is an error status in Anthropic's shape, never a 200 with part of an answer.
/// </summary>
internal static class MessagesResponder
{
    public static Task<IResult> RespondAsync(Task<ChatResponse> answer, string model, CancellationToken cancellationToken) =>
        AnswerEnding.SingleAsync(answer, response => JsonWriterResult.Of((response, model),
            static (json, s) => MessageJson.WriteMessage(json, s.response, s.model, StopSequenceReport.Of(s.response))), cancellationToken);
}
