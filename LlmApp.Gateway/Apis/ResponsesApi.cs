using System.Text.Json;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;

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

    internal static async Task<IResult> CreateResponse(HttpContext context, [AsParameters] ChatCompletionServices services)
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

        var (request, echo, invalid) = await ReadAsync(context.Request, services, context.RequestAborted);
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

        var header = ResponseHeader.For(request, echo!, call.Model);
        var options = new GatewayChatOptions(request.Options, call);
        try
        {
            return request.Stream
                ? await ResponsesStreamer.RespondAsync(context.Response, services.ChatClient.GetStreamingResponseAsync(request.Messages, options,
                    context.RequestAborted), header, services.Streaming.Value, services.Time, context.RequestAborted)
                : await ResponsesResponder.RespondAsync(services.ChatClient.GetResponseAsync(request.Messages, options, context.RequestAborted), header,
                    context.RequestAborted);
        }
        finally
        {
            quota!.Settle(record);
        }
    }

    /// <summary>Reads and validates the body: JSON, the served model, the caps on output and prompt size, then the mapping.</summary>
    private static async Task<(MappedChatRequest? Request, ResponseEcho? Echo, GatewayFailure? Refusal)> ReadAsync(
        HttpRequest request, ChatCompletionServices services, CancellationToken cancellationToken)
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
            return (null, null, GatewayFailure.InvalidRequest("The request body is not valid JSON, or not a JSON object."));
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return (null, null, refused);
        }

        using (document)
        {
            var body = document.RootElement;
            var model = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (model is { Length: > 0 } && model != backend.Model)
            {
                return (null, null, GatewayFailure.ModelNotFound(model));
            }

            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array &&
                input.GetArrayLength() > limits.MaxMessages)
            {
                return (null, null, GatewayFailure.InvalidRequest(
                    $"'input' has {input.GetArrayLength()} items; this server takes at most {limits.MaxMessages} (Limits:MaxMessages).", "input", "too_many_messages"));
            }

            MappedChatRequest? mapped;
            try
            {
                if (!ResponsesRequestMapper.TryMap(body, backend.ContextLength, out mapped, out var error))
                {
                    return (null, null, GatewayFailure.InvalidRequest(error.Message, error.Param, error.Code));
                }
            }
            catch (InvalidOperationException ex) when (ChatRequestReader.IsInvalidText(ex))
            {
                return (null, null, ChatRequestReader.InvalidText());
            }

            if (limits.MaxOutputTokens > 0 && mapped.Options.MaxOutputTokens > limits.MaxOutputTokens)
            {
                return (null, null, GatewayFailure.InvalidRequest(
                    $"'max_output_tokens' is {mapped.Options.MaxOutputTokens}; this server generates at most {limits.MaxOutputTokens} tokens per request (Limits:MaxOutputTokens).",
                    "max_output_tokens", "max_tokens_exceeded"));
            }

            var characters = RequestCaps.CountPrompt(mapped);
            return RequestCaps.CheckPrompt(characters, limits) is { } tooLong
                ? (null, null, tooLong)
                : (mapped with { PromptCharacters = characters }, ResponseEcho.Of(body), null);
        }
    }
}
