using System.Diagnostics;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// The slot one call holds while it runs, as the admission layers (chat and embeddings alike) take, move and give it
/// back: admitted once, moved to another healthy replica when its backend fails before the first byte, released when
/// the call ends. It counts the call as running on <c>llmapp.requests.active</c> while it holds a slot.
/// </summary>
internal sealed class AdmissionSession : IDisposable
{
    private readonly AdmissionControl _admission;
    private readonly CallContext _call;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _deadline;
    private readonly KeyValuePair<string, object?>[] _tags;
    private AdmissionLease _lease;

    private AdmissionSession(AdmissionControl admission, AdmissionLease lease, CallContext call, TimeSpan deadline, GatewayMetrics metrics, TimeProvider time)
    {
        _admission = admission;
        _lease = lease;
        _call = call;
        _deadline = deadline;
        _metrics = metrics;
        _time = time;
        _tags = [new("gen_ai.operation.name", call.Operation), new("gen_ai.request.model", call.Model), new("llmapp.stream", call.Stream)];
        _metrics.ActiveRequests.Add(1, _tags);
    }

    public ModelBackend Backend => _lease.Backend;

    public string RequestId => _call.RequestId;

    /// <summary>The time to first token predicted for the call when it asked for a slot, counted from its arrival.</summary>
    public TimeSpan PredictedFirstToken { get; private init; }

    public int Failovers { get; private set; }

    /// <summary>How many times its answer was continued after a cut.</summary>
    public int Resumes { get; private set; }

    /// <summary>
    /// Admits <paramref name="call"/>, waiting its turn no longer than what is left of its <paramref name="deadline"/>
    /// (which counts from its arrival); a refusal is an <see cref="AdmissionRefusedException"/>, a client that left an
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<AdmissionSession> StartAsync(
        AdmissionControl admission, CallContext call, AdmissionRequest request, TimeSpan deadline, GatewayMetrics metrics, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var elapsed = time.GetElapsedTime(call.ArrivalTimestamp);
        request = request with { MaxWait = deadline - elapsed, Objective = call.TimeToFirstTokenObjective - elapsed };
        var result = await admission.AdmitAsync(request, cancellationToken);
        return result.Outcome switch
        {
            AdmissionOutcome.Admitted => new AdmissionSession(admission, result.Lease!, call, deadline, metrics, time)
            {
                PredictedFirstToken = elapsed + result.Lease!.PredictedFirstToken,
            },
            AdmissionOutcome.ClientLeft => throw new OperationCanceledException(cancellationToken),
            var refused => throw new AdmissionRefusedException(refused, result.RetryAfter, result.Detail),
        };
    }

    /// <summary>
    /// Whether the call may run again elsewhere after <paramref name="failure"/>: it failed before anything was
    /// generated, for a reason of its backend's, and another healthy replica took it in time (counted on
    /// <c>llmapp.backend.failovers</c>). False leaves no slot held, and the failure stands.
    /// </summary>
    public async Task<bool> TryMoveAsync(Exception failure, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || !IsBeforeAnyOutput(failure))
        {
            return false;
        }

        var from = _lease.Backend.Name;
        var moved = await _admission.ReadmitAsync(_lease, _deadline - _time.GetElapsedTime(_call.ArrivalTimestamp), cancellationToken);
        if (moved is null)
        {
            return false;
        }

        _lease = moved;
        Failovers++;
        _metrics.Failovers.Add(1, new KeyValuePair<string, object?>("llmapp.backend", from));
        return true;
    }

    /// <summary>
    /// Whether the call's answer, cut by its backend for <paramref name="cause"/> after <paramref name="tokensSent"/>
    /// tokens went up, may go on elsewhere: a replica was healthy (or became so, restarted) before the request's deadline
    /// and took it (counted on <c>llmapp.resumes</c>, and an <c>llmapp.resume</c> event on the request's span). False
    /// leaves no slot held, and the failure stands.
    /// </summary>
    public async Task<bool> TryResumeAsync(string cause, int tokensSent, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var from = _lease.Backend.Name;
        var moved = await _admission.ResumeAsync(_lease, _deadline - _time.GetElapsedTime(_call.ArrivalTimestamp), cancellationToken);
        if (moved is null)
        {
            return false;
        }

        _lease = moved;
        Resumes++;
        _metrics.Resumes.Add(1, new("llmapp.backend", from), new("llmapp.resume.cause", cause));
        Activity.Current?.AddEvent(new ActivityEvent("llmapp.resume", tags: new ActivityTagsCollection
        {
            ["llmapp.resume.cause"] = cause,
            ["llmapp.backend"] = from,
            ["llmapp.resume.backend"] = moved.Backend.Name,
            ["llmapp.resume.tokens_sent"] = tokensSent,
        }));
        return true;
    }

    public void Dispose()
    {
        if (_lease is not null)
        {
            _lease.Dispose();
            _metrics.ActiveRequests.Add(-1, _tags);
        }
    }

    /// <summary>Failures that say the backend never took the call: unreachable, its circuit open, 503 while it loads, taken out of service.</summary>
    private static bool IsBeforeAnyOutput(Exception failure) => failure switch
    {
        HttpRequestException or IOException or BrokenCircuitException => true,
        BackendFailureException { Fault: BackendFault.OutOfService } => true,
        BackendFailureException { Fault: BackendFault.Status, Status: StatusCodes.Status503ServiceUnavailable } => true,
        _ => false,
    };
}
