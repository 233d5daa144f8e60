using System.Runtime.CompilerServices;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// With several replicas: a call whose backend fails before the client has a byte (unreachable, its circuit open,
/// 503 while it loads, taken out of service) is tried again on another healthy replica, its admission slot
/// moved there, waiting its turn if need be (<see cref="Admission.AdmissionLease.MoveAsync"/>). After the first update, a failure ends the stream
/// with its error event, as with one backend: a half-sent answer is never restarted elsewhere. Not in the pipeline
/// when there is one backend.
/// </summary>
internal sealed class ReplicaFailoverChatClient(IChatClient innerClient, GatewayMetrics metrics) : DelegatingChatClient(innerClient)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                return await base.GetResponseAsync(messages, options, cancellationToken);
            }
            catch (Exception ex) when (CanFailOver(ex, options, cancellationToken))
            {
                if (!await MoveAsync(options, cancellationToken))
                {
                    throw;
                }
            }
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IAsyncEnumerator<ChatResponseUpdate> updates;
        while (true)
        {
            updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    await updates.DisposeAsync();
                    yield break;
                }

                break;
            }
            catch (Exception ex) when (CanFailOver(ex, options, cancellationToken))
            {
                await updates.DisposeAsync();
                if (!await MoveAsync(options, cancellationToken))
                {
                    throw;
                }
            }
        }

        await using (updates)
        {
            do
            {
                yield return updates.Current;
            }
            while (await updates.MoveNextAsync());
        }
    }

    /// <summary>Whether <paramref name="exception"/> left the call free to run elsewhere: nothing was generated, and it has a slot to move.</summary>
    private static bool CanFailOver(Exception exception, ChatOptions? options, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && options.GetCall() is { Lease: not null } && exception switch
        {
            HttpRequestException or IOException or BrokenCircuitException => true,
            BackendFailureException { Fault: BackendFault.OutOfService } => true,
            BackendFailureException { Fault: BackendFault.Status, Status: StatusCodes.Status503ServiceUnavailable } => true,
            _ => false,
        };

    /// <summary>Moves the call's slot to another replica (see <see cref="Admission.AdmissionLease.MoveAsync"/>); false when there is none.</summary>
    private async Task<bool> MoveAsync(ChatOptions? options, CancellationToken cancellationToken)
    {
        var call = options.GetCall()!;
        var lease = call.Lease!;
        var from = lease.Backend.Name;
        if (!await lease.MoveAsync(cancellationToken))
        {
            return false;
        }

        metrics.Failovers.Add(1, new KeyValuePair<string, object?>("llmapp.backend", from));
        call.Backend = lease.Backend.Name;
        call.Failovers++;
        return true;
    }
}
