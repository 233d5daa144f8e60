using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Apis;

public static class ChatCompletionsApi
{
    public static RouteGroupBuilder MapChatCompletionsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/chat/completions", CreateChatCompletion).WithRequestLog("chat.completion");
        return api;
    }

    /// <summary>
    /// <c>POST /v1/chat/completions</c>, top to bottom: validation, the key's rate limits, the context check, admission,
    /// the chat pipeline (deadlines, telemetry, tool calls, the backend), then the SSE or JSON writer. The request log filter around it writes its one line.
    /// </summary>
    internal static async Task<IResult> CreateChatCompletion(HttpContext context, [AsParameters] ChatCompletionServices services)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        var requestAborted = context.RequestAborted;
        var call = context.Features.GetRequiredFeature<ChatCall>();

        // The key's requests per minute before a byte of the body is read: a caller over its limit costs nothing more.
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (services.Quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (request, invalid) = await ChatRequestReader.ReadAsync(context.Request, services.Backend.Value, services.Limits.Value, requestAborted);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        call.Model = services.Backend.Value.Model;
        call.Stream = request!.Stream;

        // The key's tokens before anything costs the backend; the tokens reserved are settled with the real usage.
        var reservation = Reservation(request, services, out var promptEstimate);
        var (quota, limited) = services.Quotas.Acquire(key, reservation, context.Response);
        if (limited is not null)
        {
            return limited.ToResult();
        }

        LimitOutput(request.Options, quota!, promptEstimate, services.Limits.Value.MaxOutputTokens);

        try
        {
            if (await services.ContextWindow.CheckAsync(request, requestAborted) is { } tooLong)
            {
                return tooLong.ToResult();
            }

            // The deadline counts from arrival, so the wait for a slot is part of it.
            var deadline = services.Resilience.Value.TotalTimeout(request.Options.MaxOutputTokens) - services.Time.GetElapsedTime(call.ArrivalTimestamp);
            var admission = await services.Admission.AdmitAsync(AdmissionFor(request, key, deadline, services.Admission), requestAborted);
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
            call.Lease = lease;
            var options = new GatewayChatOptions(request.Options, call);
            services.PromptCache.Apply(key.Name, request.Messages, options);
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
        finally
        {
            quota!.Settle(call);
            if (call.Error is null && call.Usage is not null)
            {
                services.PromptCache.Answered(key.Name, request.Messages);
            }
        }
    }

    /// <summary>
    /// What the request asks of admission: a chat slot in its key's queue, within its key's concurrency, and, when
    /// replicas are routed by prefix, its conversation's key and whether it is a follow-up (it has an assistant turn).
    /// </summary>
    private static AdmissionRequest AdmissionFor(MappedChatRequest request, ApiKeyIdentity key, TimeSpan deadline, AdmissionControl admission)
    {
        var affinity = admission.UsesAffinity(Operations.Chat) ? PrefixAffinity.Of(request.Messages) : (ulong?)null;
        return new AdmissionRequest(Operations.Chat, key.Name, deadline, key.Limits.MaxConcurrent, affinity)
        {
            FollowUp = affinity is not null && request.Messages.Any(m => m.Role == ChatRole.Assistant),
        };
    }

    /// <summary>
    /// The tokens a chat request may use: its prompt, estimated (its messages, its tools' declarations and its stop
    /// strings, all of which the backend reads), and its <c>max_tokens</c>; without one, as many as the server lets it
    /// generate (<c>Limits:MaxOutputTokens</c>, else what the context leaves after the prompt).
    /// </summary>
    private static TokenReservation Reservation(MappedChatRequest request, ChatCompletionServices services, out long prompt)
    {
        prompt = TokenReservation.EstimatePrompt(request.PromptCharacters + RequestCaps.CountDeclarations(request.Options), request.Messages.Count);
        var cap = services.Limits.Value.MaxOutputTokens;
        var defaultOutput = cap > 0 ? cap : (int)Math.Max(0, (services.Backend.Value.ContextLength ?? 0) - prompt);
        return TokenReservation.Chat(prompt, request.Options.MaxOutputTokens, defaultOutput);
    }

    /// <summary>
    /// What the backend is told it may generate, so that it never makes more than the gateway counted on: the ceiling
    /// (<c>Limits:MaxOutputTokens</c>) when the client set none, and, for a key with a tokens-per-minute limit, no more
    /// than its reservation leaves after the prompt (a request without <c>max_tokens</c> reserves at most one bucket).
    /// Without either, the backend's own default is the context left after the prompt, which is what was reserved.
    /// </summary>
    private static void LimitOutput(ChatOptions options, KeyQuota quota, long promptEstimate, int ceiling)
    {
        if (options.MaxOutputTokens is null && ceiling > 0)
        {
            options.MaxOutputTokens = ceiling;
        }

        if (quota.LimitsTokens)
        {
            var budget = (int)Math.Max(1, quota.Reserved - promptEstimate);
            if (options.MaxOutputTokens is null || options.MaxOutputTokens > budget)
            {
                options.MaxOutputTokens = budget;
            }
        }
    }
}
