using LlmApp.Gateway.Anthropic;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using LlmApp.Gateway.ToolCalling;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// Anthropic's Messages API, <c>POST /v1/messages</c> and <c>POST /v1/messages/count_tokens</c>, over the same chat
/// pipeline and under the same governance as <c>/v1/chat/completions</c>: the same keys (sent as <c>x-api-key</c> or
/// Bearer), per-key limits, admission, deadlines, cut answers as <c>error</c> events, the request's log line and
/// metrics. Every failure on these endpoints is written in Anthropic's error shape (<see cref="AnthropicErrorShape"/>).
/// </summary>
public static class MessagesApi
{
    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder api)
    {
        api.MapPost("/messages", CreateMessage).WithRequestLog("messages").WithMetadata(AnthropicErrorShape.Instance);
        api.MapPost("/messages/count_tokens", CountTokens).WithMetadata(AnthropicErrorShape.Instance);
        return api;
    }

    /// <summary>
    /// <c>POST /v1/messages</c> on the one request path (<see cref="ChatSpine"/>): read by
    /// <see cref="MessagesRequestMapper"/>, answered as Anthropic's stream or message.
    /// </summary>
    internal static Task<IResult> CreateMessage(HttpContext context, [AsParameters] ChatCompletionServices services) =>
        ChatSpine.RunAsync(context, services, ChatApis.Messages,
            async cancellationToken =>
            {
                var (request, refusal) = await JsonBodyReader.ReadAsync(context.Request, services, Shape(services, countOnly: false), cancellationToken);
                return (request, refusal);
            },
            (request, call, pipeline, options) =>
            {
                if (!request.Stream)
                {
                    return MessagesResponder.RespondAsync(pipeline.GetResponseAsync(request.Messages, options, context.RequestAborted), call.Model,
                        context.RequestAborted);
                }

                // message_start carries the prompt's count, which the backend gives before its first token.
                var promptCount = new PromptCount();
                (options.AdditionalProperties ??= [])[PromptCount.Key] = promptCount;
                return MessagesStreamer.RespondAsync(context.Response, pipeline.GetStreamingResponseAsync(request.Messages, options, context.RequestAborted),
                    call.Model, promptCount, services.Streaming.Value, services.Time, context.RequestAborted);
            });

    /// <summary>
    /// <c>POST /v1/messages/count_tokens</c>: the prompt's tokens as the backend counts them (llama-server's chat template
    /// and tokenizer), <c>{"input_tokens": N}</c>. It generates nothing and takes no slot; it counts against the key's
    /// requests per minute. With tool calls emulated, the tools' instructions are counted, as the backend reads them.
    /// A backend that cannot count a chat (an OpenAI-compatible server without vLLM's <c>/tokenize</c>) answers 400 saying so.
    /// </summary>
    internal static async Task<IResult> CountTokens(
        HttpContext context, [AsParameters] ChatCompletionServices services, BackendPool pool, BackendConnections connections)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(connections);
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (services.Quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (request, invalid) = await JsonBodyReader.ReadAsync(context.Request, services, Shape(services, countOnly: true), context.RequestAborted);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var chat = pool.All.Where(b => b.Operation == Operations.Chat).ToArray();
        var backend = Array.Find(chat, b => b.IsHealthy) ?? chat.FirstOrDefault();
        if (backend is null)
        {
            return GatewayFailure.InvalidRequest("count_tokens needs a chat backend, and this gateway has none.").ToResult();
        }

        // What the backend reads: with tool calls emulated, the tools' instructions are part of the prompt.
        var (messages, options) = services.Backend.Value.CallsToolsItself
            ? ((IEnumerable<ChatMessage>)request!.Messages, (ChatOptions?)request.Options)
            : ConstrainedToolCallingChatClient.AsSent(request!.Messages, request.Options);
        const string NoCount = "count_tokens needs a backend that counts a chat's tokens: llama.cpp, or vLLM's /tokenize; this one does not.";
        try
        {
            return await PromptTokenCounter.CountAsync(backend, connections.Invoker, [.. messages], options, context.RequestAborted) is { } tokens
                ? JsonWriterResult.Of(tokens, static (json, count) =>
                {
                    json.WriteStartObject();
                    json.WriteNumber("input_tokens"u8, count);
                    json.WriteEndObject();
                })
                : GatewayFailure.InvalidRequest(NoCount).ToResult();
        }
        catch (BackendFailureException failure) when (failure.Status is 404 or 405 && backend.Options.Kind != BackendKind.LlamaCpp)
        {
            return GatewayFailure.InvalidRequest(NoCount).ToResult();
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }

    /// <summary>How the Messages API names what every API checks, and its mapping.</summary>
    private static JsonBodyReader.Shape Shape(ChatCompletionServices services, bool countOnly) =>
        new(ModelRequired: true, "messages", "max_tokens", ["stream"],
            body => MessagesRequestMapper.TryMap(body, countOnly, services.Backend.Value.ContextLength, out var mapped, out var error) ? (mapped, null) : (null, error));
}
