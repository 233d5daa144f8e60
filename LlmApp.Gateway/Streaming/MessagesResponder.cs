using System.Text.Json;
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
        AnswerEnding.SingleAsync(answer, response => new MessageResult(response, model), cancellationToken);

    private sealed class MessageResult(ChatResponse response, string model) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(httpContext.Response.BodyWriter, MessageJson.WriterOptions))
            {
                MessageJson.WriteMessage(json, response, model, StopSequenceReport.Of(response));
            }

            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
