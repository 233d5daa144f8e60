using System.Text.Json;
using LlmApp.Gateway.Anthropic;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Answers an Anthropic request that did not ask to stream with one <c>message</c>. Any failure, an answer without a
/// finish reason included, is an error status in Anthropic's shape, never a 200 with part of an answer.
/// </summary>
internal static class MessagesResponder
{
    public static async Task<IResult> RespondAsync(Task<ChatResponse> answer, string model, CancellationToken cancellationToken)
    {
        try
        {
            var response = await answer;
            return response.FinishReason is null
                ? throw new IncompleteResponseException("The answer ended without a finish reason.")
                : new MessageResult(response, model);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }

    private sealed class MessageResult(ChatResponse response, string model) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(httpContext.Response.BodyWriter, MessageJson.WriterOptions))
            {
                MessageJson.WriteMessage(json, response, model, stopSequence: null);
            }

            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
