using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace LlmApp.Gateway.Apis;

public static class ChatCompletionsApi
{
    public static RouteGroupBuilder MapChatCompletionsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/chat/completions", CreateChatCompletion).WithRequestLog("chat.completion");
        return api;
    }

    /// <summary>
    /// <c>POST /v1/chat/completions</c>, top to bottom: the key's requests per minute (before a byte of the body is read),
    /// the time-to-first-token objective, validation, the key's tokens, the chat pipeline (telemetry, tool calls, the context check, admission, the
    /// backend's deadlines and wire client: see <c>Hosting/GatewayExtensions</c>), then the SSE or JSON writer. The request
    /// log filter around it writes its one line from the call's record.
    /// </summary>
    internal static async Task<IResult> CreateChatCompletion(HttpContext context, [AsParameters] ChatCompletionServices services)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (services.Quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (objective, badObjective) = FirstTokenObjective.Read(context.Request, services.Slo.Value, key);
        var (request, invalid) = badObjective is null
            ? await ChatRequestReader.ReadAsync(context.Request, services.Backend.Value, services.Limits.Value, context.RequestAborted)
            : (null, badObjective);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var record = context.Features.GetRequiredFeature<CallRecord>();
        var call = new CallContext(record, Operations.Chat, services.Backend.Value.Model, request!.Stream, key.Name, key.Limits.MaxConcurrent)
        {
            TimeToFirstTokenObjective = objective,
        };
        context.Features.Set(call);
        var (quota, limited) = services.Quotas.AcquireChat(key, request, services.Limits.Value.MaxOutputTokens, services.Backend.Value.ContextLength,
            context.Response);
        if (limited is not null)
        {
            return limited.ToResult();
        }

        var options = new GatewayChatOptions(request.Options, call);
        try
        {
            return request.Stream
                ? await ChatCompletionStreamer.RespondAsync(context.Response, services.ChatClient.GetStreamingResponseAsync(request.Messages, options,
                    context.RequestAborted), call.Model, request.IncludeUsage, services.Streaming.Value, services.Time, context.RequestAborted)
                : await ChatCompletionResponder.CompleteAsync(services.ChatClient.GetResponseAsync(request.Messages, options, context.RequestAborted),
                    call.Model, context.RequestAborted);
        }
        finally
        {
            quota!.Settle(record);
        }
    }
}
