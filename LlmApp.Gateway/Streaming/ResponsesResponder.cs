using System.Text.Json;
using LlmApp.Gateway.Anthropic;
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
        AnswerEnding.SingleAsync(answer, response => new ResponseResult(response, header), cancellationToken);

    private sealed class ResponseResult(ChatResponse response, ResponseHeader header) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json";
            var (status, incomplete) = ResponseJson.StatusOf(response.FinishReason);
            await using (var json = new Utf8JsonWriter(httpContext.Response.BodyWriter, MessageJson.WriterOptions))
            {
                ResponseJson.WriteResponse(json, header, status, ResponseJson.ItemsOf(response), response.Usage, incomplete);
            }

            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
