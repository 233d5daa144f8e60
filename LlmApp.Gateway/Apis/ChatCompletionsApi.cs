using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;

namespace LlmApp.Gateway.Apis;

public static class ChatCompletionsApi
{
    public static RouteGroupBuilder MapChatCompletionsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/chat/completions", CreateChatCompletion).WithRequestLog("chat.completion");
        return api;
    }

    /// <summary>
    /// <c>POST /v1/chat/completions</c> on the one request path (<see cref="ChatSpine"/>): read and validated by
    /// <see cref="ChatRequestReader"/>, answered as SSE chunks or one <c>chat.completion</c>. The request log filter
    /// around it writes its one line from the call's record.
    /// </summary>
    internal static Task<IResult> CreateChatCompletion(HttpContext context, [AsParameters] ChatCompletionServices services) =>
        ChatSpine.RunAsync(context, services, ChatApis.ChatCompletions,
            cancellationToken => ChatRequestReader.ReadAsync(context.Request, services.Backend.Value, services.Limits.Value, cancellationToken),
            (request, call, pipeline, options) => request.Stream
                ? ChatCompletionStreamer.RespondAsync(context.Response, pipeline.GetStreamingResponseAsync(request.Messages, options, context.RequestAborted),
                    call.Model, request.IncludeUsage, services.Streaming.Value, services.Time, context.RequestAborted)
                : ChatCompletionResponder.CompleteAsync(pipeline.GetResponseAsync(request.Messages, options, context.RequestAborted), call.Model,
                    context.RequestAborted));
}
