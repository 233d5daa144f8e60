using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// What became of one request: which backend answered it, after how many failovers, its first token, its usage, and
/// what went wrong. The telemetry layer is the one that writes it, from what the call returned (its updates, its
/// answer, or the exception it threw), and the request log filter its status when the endpoint did not give one; the
/// request's log line, its key's token account and the prompt cache read it.
/// </summary>
public sealed class CallRecord(string requestId, long arrivalTimestamp)
{
    public string RequestId { get; } = requestId;

    public long ArrivalTimestamp { get; } = arrivalTimestamp;

    /// <summary>The backend that answered (the last one, after any failover); null when it reached none.</summary>
    public string? Backend { get; set; }

    public int Failovers { get; set; }

    /// <summary>How many times its answer was continued on another replica (or the same, restarted) after a cut.</summary>
    public int Resumes { get; set; }

    /// <summary>The prompt tokens its continuations were sent: the gateway's own cost, not counted to the client.</summary>
    public long ResumePromptTokens { get; set; }

    public TimeSpan? TimeToFirstToken { get; set; }

    public UsageDetails? Usage { get; set; }

    /// <summary>What went wrong, as a bounded <c>error.type</c> or refusal reason; null when nothing did.</summary>
    public string? Error { get; set; }

    /// <summary>The HTTP status, when it is not the one the endpoint's result carries (a stream, a client that left).</summary>
    public int? Status { get; set; }
}
