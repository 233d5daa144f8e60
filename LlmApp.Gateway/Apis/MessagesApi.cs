using System.Text.Json;
using LlmApp.Gateway.Anthropic;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;

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
    /// <c>POST /v1/messages</c>: the key's requests per minute, the time-to-first-token objective, the body read and
    /// mapped (<see cref="MessagesRequestMapper"/>), the key's tokens, the chat pipeline, then Anthropic's stream or message.
    /// </summary>
    internal static async Task<IResult> CreateMessage(HttpContext context, [AsParameters] ChatCompletionServices services)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (services.Quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (objective, badObjective) = FirstTokenObjective.Read(context.Request, services.Slo.Value, key);
        if (badObjective is not null)
        {
            return badObjective.ToResult();
        }

        var (request, invalid) = await ReadAsync(context.Request, services, countOnly: false, context.RequestAborted);
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
                ? await MessagesStreamer.RespondAsync(context.Response, services.ChatClient.GetStreamingResponseAsync(request.Messages, options,
                    context.RequestAborted), call.Model, services.Streaming.Value, services.Time, context.RequestAborted)
                : await MessagesResponder.RespondAsync(services.ChatClient.GetResponseAsync(request.Messages, options, context.RequestAborted), call.Model,
                    context.RequestAborted);
        }
        finally
        {
            quota!.Settle(record);
        }
    }

    /// <summary>
    /// <c>POST /v1/messages/count_tokens</c>: the prompt's tokens as the backend counts them (llama-server's chat template
    /// and tokenizer), <c>{"input_tokens": N}</c>. It generates nothing and takes no slot; it counts against the key's
    /// requests per minute. Only llama.cpp backends count; another kind answers 400 saying so.
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

        var (request, invalid) = await ReadAsync(context.Request, services, countOnly: true, context.RequestAborted);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var chat = pool.All.Where(b => b.Operation == Operations.Chat).ToArray();
        var backend = Array.Find(chat, b => b.IsHealthy) ?? chat.FirstOrDefault();
        if (backend is null || backend.Options.Kind != BackendKind.LlamaCpp)
        {
            return GatewayFailure.InvalidRequest("count_tokens needs a llama.cpp backend, which counts with the model's own tokenizer.").ToResult();
        }

        try
        {
            return await PromptTokenCounter.CountAsync(backend, connections.Invoker, request!.Messages, request.Options, context.RequestAborted) is { } tokens
                ? new TokenCountResult(tokens)
                : GatewayFailure.ServerError("backend_protocol_error").ToResult();
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }

    /// <summary>Reads and validates the body: JSON, the served model, the caps on messages, output and prompt size, then the mapping.</summary>
    private static async Task<(MappedChatRequest? Request, GatewayFailure? Refusal)> ReadAsync(
        HttpRequest request, ChatCompletionServices services, bool countOnly, CancellationToken cancellationToken)
    {
        var limits = services.Limits.Value;
        var backend = services.Backend.Value;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return (null, GatewayFailure.InvalidRequest("The request body is not valid JSON."));
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return (null, refused);
        }

        using (document)
        {
            var body = document.RootElement;
            if (MessagesRequestMapper.Model(body) is not { Length: > 0 } model)
            {
                return (null, GatewayFailure.InvalidRequest("model: Field required.", "model"));
            }

            if (model != backend.Model)
            {
                return (null, GatewayFailure.ModelNotFound(model));
            }

            if (body.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > limits.MaxMessages)
            {
                return (null, GatewayFailure.InvalidRequest(
                    $"messages: {list.GetArrayLength()} messages; this server takes at most {limits.MaxMessages} (Limits:MaxMessages).", "messages"));
            }

            MappedChatRequest? mapped;
            try
            {
                if (!MessagesRequestMapper.TryMap(body, countOnly, backend.ContextLength, out mapped, out var error))
                {
                    return (null, GatewayFailure.InvalidRequest(error.Message, error.Param, error.Code));
                }
            }
            catch (InvalidOperationException ex) when (ChatRequestReader.IsInvalidText(ex))
            {
                return (null, ChatRequestReader.InvalidText());
            }

            if (limits.MaxOutputTokens > 0 && mapped.Options.MaxOutputTokens > limits.MaxOutputTokens)
            {
                return (null, GatewayFailure.InvalidRequest(
                    $"max_tokens: {mapped.Options.MaxOutputTokens}; this server generates at most {limits.MaxOutputTokens} tokens per request (Limits:MaxOutputTokens).",
                    "max_tokens"));
            }

            var characters = RequestCaps.CountPrompt(mapped);
            return RequestCaps.CheckPrompt(characters, limits) is { } tooLong ? (null, tooLong) : (mapped with { PromptCharacters = characters }, null);
        }
    }

    /// <summary><c>{"input_tokens": N}</c>.</summary>
    private sealed class TokenCountResult(int tokens) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(httpContext.Response.BodyWriter, MessageJson.WriterOptions))
            {
                json.WriteStartObject();
                json.WriteNumber("input_tokens"u8, tokens);
                json.WriteEndObject();
            }

            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
