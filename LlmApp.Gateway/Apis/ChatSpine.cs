using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// The one path of a chat request, whichever API it came by (chat completions, Responses, Messages), top to bottom:
/// the key's requests per minute (before a byte of the body is read), the time-to-first-token objective, the API's own
/// reading and validation into a <see cref="MappedChatRequest"/>, the <see cref="CallContext"/>, the key's tokens, then
/// the chat pipeline through the API's own writer, and the tokens settled. An API brings only its reader and its writer.
/// </summary>
internal static class ChatSpine
{
    /// <summary>An API's writer: the answer to <paramref name="request"/>, from the pipeline, in the API's shape.</summary>
    public delegate Task<IResult> Respond(MappedChatRequest request, CallContext call, IChatClient pipeline, GatewayChatOptions options);

    public static async Task<IResult> RunAsync(
        HttpContext context, ChatCompletionServices services, string api, Func<CancellationToken, Task<(MappedChatRequest? Request, GatewayFailure? Refusal)>> read,
        Respond respond)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        if (services.Quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var (objective, badObjective) = FirstTokenObjective.Read(context.Request, services.Slo.Value, key);
        var (request, invalid) = badObjective is null ? await read(context.RequestAborted) : (null, badObjective);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var record = context.Features.GetRequiredFeature<CallRecord>();
        var call = new CallContext(record, Operations.Chat, services.Backend.Value.Model, request!.Stream, key.Name, key.Limits.MaxConcurrent)
        {
            TimeToFirstTokenObjective = objective,
            Api = api,
        };
        context.Features.Set(call);
        var (quota, limited) = services.Quotas.AcquireChat(key, request, services.Limits.Value.MaxOutputTokens, services.Backend.Value.ContextLength,
            context.Response);
        if (limited is not null)
        {
            return limited.ToResult();
        }

        try
        {
            return await respond(request, call, services.ChatClient, new GatewayChatOptions(request.Options, call));
        }
        finally
        {
            quota!.Settle(record);
        }
    }
}
