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
/// backend's fault (a disconnect, an error event, the idle timeout, the replica taken out of service) is continued, where
/// <c>Resilience:ResumeCutAnswers</c> allows: the messages and the text already sent go to a healthy replica as a
/// partial assistant message, and only what follows it comes up (<see cref="AnswerSoFar"/>); a half-sent answer is never
/// started again from its beginning. Where the call went goes back up on what it returns (<see cref="CallAnnotations"/>); a refusal is an <see cref="AdmissionRefusedException"/>.
/// </summary>
internal sealed partial class AdmissionChatClient(
    AdmissionControl admission, IReadOnlyDictionary<ModelBackend, IChatClient> backends, GatewayMetrics metrics, ResilienceOptions resilience, TimeProvider time,
    ILogger logger)
    : IChatClient
{
    /// <summary>Whether answers cut after output began are continued: as set, or, unset, where more than one replica serves chat.</summary>
    private readonly bool _resume = resilience.MaxResumes > 0 && (resilience.ResumeCutAnswers ?? backends.Count > 1);

    /// <summary>
    /// A single answer: the backend sends nothing until it is whole, so one cut mid-generation loses all of it, and the
    /// call is asked again from the start on a healthy replica (counted as a resume, by its cause). A failure before the
    /// backend took the call (no connection, its circuit open, 503 while it loads) moves it as a failover.
    /// </summary>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        using var session = await StartAsync(list, options, cancellationToken);
        long resumePromptTokens = 0;
        while (true)
        {
            try
            {
                var response = await backends[session.Backend].GetResponseAsync(list, options, cancellationToken);
                var properties = response.AdditionalProperties ??= [];
                CallAnnotations.Annotate(properties, session.Backend.Name, session.Failovers, session.PredictedFirstToken);
                if (session.Resumes > 0)
                {
                    // The prompt read again is the gateway's cost; the client's usage is this answer's, all it received.
                    resumePromptTokens += response.Usage?.InputTokenCount ?? 0;
                    metrics.ResumePromptTokens.Add(response.Usage?.InputTokenCount ?? 0, new KeyValuePair<string, object?>("llmapp.backend", session.Backend.Name));
                    CallAnnotations.AnnotateResumes(properties, session.Backend.Name, session.Resumes, resumePromptTokens);
                }

                return response;
            }
            catch (Exception ex)
            {
                var taken = ex is not HttpRequestException failed || !BackendResilience.IsNotConnected(failed);
                var moved = taken && MayResume(session) && ResumeCause.Of(ex) is { } cause
                    ? await ResumeAsync(session, cause, tokensSent: 0, cancellationToken)
                    : await session.TryMoveAsync(ex, cancellationToken);
                if (!moved)
                {
                    CallAnnotations.Annotate(ex, session.Backend.Name, session.Failovers, session.Resumes);
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

        // What went up is kept only where a cut can be continued: every other stream passes its updates on untouched.
        var soFar = _resume && AnswerSoFar.MayContinue(options) ? new AnswerSoFar() : null;
        try
        {
            var first = updates.Current;
            CallAnnotations.Annotate(first.AdditionalProperties ??= [], session.Backend.Name, session.Failovers, session.PredictedFirstToken);
            soFar?.Add(first);
            yield return first;
            long resumePromptTokens = 0;
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
                    await updates.DisposeAsync();
                    if (await ContinueAsync(session, soFar, ex, list, options, cancellationToken) is not { } next)
                    {
                        CallAnnotations.Annotate(ex, session.Backend.Name, session.Failovers, session.Resumes);
                        throw;
                    }

                    updates = next;
                    continue;
                }

                var update = updates.Current;
                if (soFar is not null)
                {
                    soFar.Add(update);
                    // Not short-circuited: the update with the finish reason may carry the usage too.
                    if (session.Resumes > 0 && (HasUsage(update, soFar, session.Backend, ref resumePromptTokens) | update.FinishReason is not null))
                    {
                        CallAnnotations.AnnotateResumes(update.AdditionalProperties ??= [], session.Backend.Name, session.Resumes, resumePromptTokens);
                    }
                }

                yield return update;
            }
        }
        finally
        {
            await updates.DisposeAsync();
        }
    }

    /// <summary>
    /// The stream that continues an answer cut by <paramref name="failure"/>, on the replica that took it up; null when it
    /// may not be continued (not a backend's fault, a tool call or the end already sent, no resumes left, nothing left
    /// of max_tokens, no replica in time), and the failure ends the answer.
    /// </summary>
    private async Task<IAsyncEnumerator<ChatResponseUpdate>?> ContinueAsync(
        AdmissionSession session, AnswerSoFar? soFar, Exception failure, IReadOnlyList<ChatMessage> messages, ChatOptions? options,
        CancellationToken cancellationToken)
    {
        if (soFar is not { Continuable: true } || options is null || !MayResume(session) || ResumeCause.Of(failure) is not { } cause ||
            soFar.Continuation(messages, options) is not { } continuation ||
            !await ResumeAsync(session, cause, soFar.Tokens, cancellationToken))
        {
            return null;
        }

        return backends[session.Backend].GetStreamingResponseAsync(continuation.Messages, continuation.Options, cancellationToken)
            .GetAsyncEnumerator(cancellationToken);
    }

    private async Task<bool> ResumeAsync(AdmissionSession session, string cause, int tokensSent, CancellationToken cancellationToken)
    {
        var from = session.Backend.Name;
        if (!await session.TryResumeAsync(cause, tokensSent, cancellationToken))
        {
            return false;
        }

        LogResumed(logger, session.RequestId, from, cause, tokensSent, session.Backend.Name);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answer {RequestId} was cut by backend {Backend} ({Cause}) after {Tokens} tokens; it goes on on {Resumed}")]
    private static partial void LogResumed(ILogger logger, string requestId, string backend, string cause, int tokens, string resumed);

    private bool MayResume(AdmissionSession session) => _resume && session.Resumes < resilience.MaxResumes;

    /// <summary>Whether <paramref name="update"/> carries the continuation's usage, which it makes the client's.</summary>
    private bool HasUsage(ChatResponseUpdate update, AnswerSoFar soFar, ModelBackend backend, ref long resumePromptTokens)
    {
        var contents = update.Contents;
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is UsageContent usage)
            {
                var before = resumePromptTokens;
                resumePromptTokens = soFar.ToClientUsage(usage.Details);
                metrics.ResumePromptTokens.Add(resumePromptTokens - before, new KeyValuePair<string, object?>("llmapp.backend", backend.Name));
                return true;
            }
        }

        return false;
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
