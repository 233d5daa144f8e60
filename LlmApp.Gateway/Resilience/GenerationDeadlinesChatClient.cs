using System.Runtime.CompilerServices;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// Holds every generation to its deadlines (<see cref="GenerationWatchdog"/>): the inner call is cancelled when one
/// passes, and the caller gets a <see cref="GenerationTimeoutException"/> that says which. It sits under admission, in
/// each backend's own pipeline: the first-token and idle timers start when the call is sent to that backend (after a
/// failover, to the next one), while the total deadline counts from the request's arrival
/// (<see cref="CallContext.ArrivalTimestamp"/>), so time spent in the queue and on a failed replica is part of it.
/// </summary>
public sealed class GenerationDeadlinesChatClient(IChatClient innerClient, ResilienceOptions resilience, TimeProvider time, CancellationToken shutdown)
    : DelegatingChatClient(innerClient)
{
    /// <summary>
    /// An answer that does not stream has no tokens to watch: only the total deadline (and the drain window) applies.
    /// A backend that hangs meanwhile is taken out of service by the backend monitor, which ends the call.
    /// </summary>
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var arrival = options.GetCall()?.ArrivalTimestamp ?? time.GetTimestamp();
        using var watchdog = new GenerationWatchdog(resilience, options.DeadlineMaxOutputTokens(), arrival, time, streaming: false, cancellationToken, shutdown);
        try
        {
            return await base.GetResponseAsync(messages, options, watchdog.Token);
        }
        catch (Exception ex) when (watchdog.Fired is var fired and not GenerationTimeout.None)
        {
            throw new GenerationTimeoutException(fired, ex);
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var arrival = options.GetCall()?.ArrivalTimestamp ?? time.GetTimestamp();
        using var watchdog = new GenerationWatchdog(resilience, options.DeadlineMaxOutputTokens(), arrival, time, streaming: true, cancellationToken, shutdown);
        await using var updates = base.GetStreamingResponseAsync(messages, options, watchdog.Token).GetAsyncEnumerator(watchdog.Token);
        while (true)
        {
            bool more;
            try
            {
                more = await updates.MoveNextAsync();
            }
            catch (Exception ex) when (watchdog.Fired is var fired and not GenerationTimeout.None)
            {
                // However the cancelled call failed (a cancelled read, an aborted connection), a deadline is why.
                throw new GenerationTimeoutException(fired, ex);
            }

            if (!more)
            {
                break;
            }

            var update = updates.Current;
            // Output, or the end: what a backend still reading the prompt does not send.
            if (update.FinishReason is not null || ChatUpdates.CarriesOutput(update))
            {
                watchdog.OnToken();
            }

            yield return update;
        }
    }

}

public static class GenerationDeadlinesChatClientBuilderExtensions
{
    /// <summary>Adds the first-token, idle and total deadlines of <c>Resilience</c>, and the drain window after SIGTERM.</summary>
    public static ChatClientBuilder UseGenerationDeadlines(this ChatClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) => new GenerationDeadlinesChatClient(
            inner,
            services.GetRequiredService<IOptions<ResilienceOptions>>().Value,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ShutdownDrain>().Expired));
    }
}
