using LlmApp.Gateway.Admission;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// One chat request as the gateway handles it: what the middleware need to know about it (when it arrived, which
/// backend admission gave it, whether the client streams) and what they learn as it runs (first token, tokens,
/// the failure's <c>error.type</c>). The endpoint filter creates it and writes the request's log line from it.
/// </summary>
public sealed class ChatCall(string requestId, long arrivalTimestamp)
{
    public string RequestId { get; } = requestId;

    /// <summary>When the request arrived, as a <see cref="TimeProvider"/> timestamp: deadlines and latencies count from here.</summary>
    public long ArrivalTimestamp { get; } = arrivalTimestamp;

    /// <summary>The served model, once the request named it correctly.</summary>
    public string? Model { get; set; }

    public bool Stream { get; set; }

    /// <summary>The backend admission chose; the router sends the call there.</summary>
    public string? Backend { get; set; }

    /// <summary>The slot admission gave the call, which failover may move to another replica before the first byte.</summary>
    public AdmissionLease? Lease { get; set; }

    /// <summary>How many times the call moved to another replica after its backend failed before the first byte.</summary>
    public int Failovers { get; set; }

    /// <summary>The HTTP status, when it is not the one the endpoint's result carries (a stream, a client that left).</summary>
    public int? Status { get; set; }

    /// <summary>What went wrong, as a bounded <c>error.type</c> or refusal reason; null when nothing did.</summary>
    public string? Error { get; set; }

    public TimeSpan? TimeToFirstToken { get; set; }

    public UsageDetails? Usage { get; set; }
}
