using System.Runtime.CompilerServices;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Admission as the chat pipeline's bottom layer: it admits the call (a slot on the backend the routing picks, its turn
/// waited within the queue's bounds), sends it to that backend's own pipeline (its deadlines, then its wire client),
/// and holds the slot until the answer ends. When the backend fails before the first update and another replica is
/// healthy, it sends the call there instead: the client sees one answer, or one failure. After the first update a
/// failure ends the answer, as with one backend: a half-sent answer is never restarted elsewhere. Where the call went
/// goes back up on what it returns (<see cref="CallAnnotations"/>); a refusal is an <see cref="AdmissionRefusedException"/>.
/// </summary>
internal sealed class AdmissionChatClient(
    AdmissionControl admission, IReadOnlyDictionary<ModelBackend, IChatClient> backends, GatewayMetrics metrics, ResilienceOptions resilience, TimeProvider time)
    : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        using var session = await StartAsync(list, options, cancellationToken);
        while (true)
        {
            try
            {
                var response = await backends[session.Backend].GetResponseAsync(list, options, cancellationToken);
                CallAnnotations.Annotate(response.AdditionalProperties ??= [], session.Backend.Name, session.Failovers, session.PredictedFirstToken);
                return response;
            }
            catch (Exception ex)
            {
                if (!await session.TryMoveAsync(ex, cancellationToken))
                {
                    CallAnnotations.Annotate(ex, session.Backend.Name, session.Failovers);
                    throw;
                }
            }
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        using var session = await StartAsync(list, options, cancellationToken);
        IAsyncEnumerator<ChatResponseUpdate> updates;
        while (true)
        {
            updates = backends[session.Backend].GetStreamingResponseAsync(list, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    await updates.DisposeAsync();
                    yield break;
                }

                break;
            }
            catch (Exception ex)
            {
                await updates.DisposeAsync();
                if (!await session.TryMoveAsync(ex, cancellationToken))
                {
                    CallAnnotations.Annotate(ex, session.Backend.Name, session.Failovers);
                    throw;
                }
            }
        }

        await using (updates)
        {
            var first = updates.Current;
            CallAnnotations.Annotate(first.AdditionalProperties ??= [], session.Backend.Name, session.Failovers, session.PredictedFirstToken);
            yield return first;
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (Exception ex)
                {
                    CallAnnotations.Annotate(ex, session.Backend.Name, session.Failovers);
                    throw;
                }

                yield return updates.Current;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
        // The backends' clients belong to the service provider, and the connections to BackendConnections.
    }

    private Task<AdmissionSession> StartAsync(IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var call = options.GetCall() ?? throw new InvalidOperationException("A chat call reaches admission through the gateway's endpoint, with its CallContext.");
        // By the conversation's prefix, when there are replicas to keep it on; a follow-up (it has an assistant turn)
        // waits a while for its replica, whose prompt cache holds the turns before.
        var affinity = admission.UsesAffinity(call.Operation) ? PrefixAffinity.Of(messages) : (ulong?)null;
        var followUp = affinity is not null && messages.Any(m => m.Role == ChatRole.Assistant);
        var request = new AdmissionRequest(call.Operation, call.Key, TimeSpan.Zero, call.KeyMaxConcurrent, affinity)
        {
            FollowUp = followUp,
            PromptChars = PromptText.Chars(messages),
            CachedChars = PromptText.CachedChars(messages),
            MaxOutputTokens = options?.MaxOutputTokens,
        };
        return AdmissionSession.StartAsync(admission, call, request, resilience.TotalTimeout(options?.MaxOutputTokens), metrics, time, cancellationToken);
    }
}
