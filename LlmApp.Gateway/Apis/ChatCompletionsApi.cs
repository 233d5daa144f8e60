using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
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
    /// <c>POST /v1/chat/completions</c>, top to bottom: validation, admission, the chat pipeline (deadlines, telemetry,
    /// tool calls, the backend), then the SSE or JSON writer. The request log filter around it writes its one line.
    /// </summary>
    public static async Task<IResult> CreateChatCompletion(HttpContext context, [AsParameters] ChatCompletionServices services)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        var requestAborted = context.RequestAborted;
        var call = context.Features.GetRequiredFeature<ChatCall>();

        var (request, invalid) = await ChatRequestReader.ReadAsync(context.Request, services.Backend.Value, services.Limits.Value, requestAborted);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        call.Model = services.Backend.Value.Model;
        call.Stream = request!.Stream;

        // The deadline counts from arrival, so the wait for a slot is part of it.
        var deadline = services.Resilience.Value.TotalTimeout(request.Options.MaxOutputTokens) - services.Time.GetElapsedTime(call.ArrivalTimestamp);
        var admission = await services.Admission.AdmitAsync(new AdmissionRequest(Operations.Chat, Partition: "", deadline), requestAborted);
        if (admission.Outcome == AdmissionOutcome.ClientLeft)
        {
            throw new OperationCanceledException(requestAborted);
        }

        if (!admission.IsAdmitted)
        {
            return AdmissionRefusals.For(admission.Outcome).ToResult();
        }

        using var lease = admission.Lease!;
        call.Backend = lease.Backend.Name;
        var options = new GatewayChatOptions(request.Options, call);
        if (!request.Stream)
        {
            return await ChatCompletionResponder.CompleteAsync(services.ChatClient.GetResponseAsync(request.Messages, options, requestAborted), call.Model,
                requestAborted);
        }

        var updates = services.ChatClient.GetStreamingResponseAsync(request.Messages, options, requestAborted);
        using var writer = new SseWriter(context.Response, services.Streaming.Value.KeepAliveInterval, services.Time);
        var streamer = new ChatCompletionStreamer(writer, call.Model, request.IncludeUsage);
        return await streamer.StreamAsync(updates, requestAborted);
    }
}
