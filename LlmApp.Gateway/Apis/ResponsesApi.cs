using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// OpenAI's Responses API, <c>POST /v1/responses</c>, stateless: over the same chat pipeline and under the same
/// governance as <c>/v1/chat/completions</c> (keys, per-key limits, admission, deadlines, a cut answer as
/// <c>response.failed</c>, the request's log line and metrics). The gateway keeps no responses, so
/// <c>GET /v1/responses/{id}</c> is 404 and <c>store: true</c> is refused.
/// </summary>
public static class ResponsesApi
{
    public static RouteGroupBuilder MapResponsesApi(this RouteGroupBuilder api)
    {
        api.MapPost("/responses", CreateResponse).WithRequestLog("response");
        api.MapGet("/responses/{id}", (string id) =>
            GatewayFailure.NotFoundObject($"No response with id '{id}': this server keeps no responses (store is not supported).").ToResult());
        return api;
    }

    /// <summary>
    /// <c>POST /v1/responses</c> on the one request path (<see cref="ChatSpine"/>): read by
    /// <see cref="ResponsesRequestMapper"/>, answered as the Responses stream of events or one response object.
    /// </summary>
    internal static Task<IResult> CreateResponse(HttpContext context, [AsParameters] ChatCompletionServices services)
    {
        ResponseEcho? echo = null;
        var shape = new JsonBodyReader.Shape(ModelRequired: false, "input", "max_output_tokens", ["stream", "store", "parallel_tool_calls", "background"],
            body => ResponsesRequestMapper.TryMap(body, services.Backend.Value.ContextLength, out var mapped, out var error) ? (mapped, null) : (null, error),
            Keep: body => echo = ResponseEcho.Of(body));
        return ChatSpine.RunAsync(context, services, ChatApis.Responses,
            cancellationToken => JsonBodyReader.ReadAsync(context.Request, services, shape, cancellationToken),
            (request, call, pipeline, options) =>
            {
                var header = ResponseHeader.For(request, echo!, call.Model);
                return request.Stream
                    ? ResponsesStreamer.RespondAsync(context.Response, pipeline.GetStreamingResponseAsync(request.Messages, options, context.RequestAborted),
                        header, services.Streaming.Value, services.Time, context.RequestAborted)
                    : ResponsesResponder.RespondAsync(pipeline.GetResponseAsync(request.Messages, options, context.RequestAborted), header, context.RequestAborted);
            });
    }
}
