namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// One request to the API as its pipeline sees it, set once by its endpoint: when it arrived, what it asked of which
/// model, and whose it is (the API key's name, which admission queues it under, and the key's own concurrency limit).
/// <see cref="Record"/> is where the pipeline says what became of it.
/// </summary>
public sealed record CallContext(
    CallRecord Record, string Operation, string Model, bool Stream, string Key, int? KeyMaxConcurrent = null)
{
    public string RequestId => Record.RequestId;

    /// <summary>When the request arrived, as a <see cref="TimeProvider"/> timestamp: deadlines and latencies count from here.</summary>
    public long ArrivalTimestamp => Record.ArrivalTimestamp;

    /// <summary>
    /// The time to first token it is promised, from its arrival: the tightest of <c>Slo:TimeToFirstToken</c>, its key's
    /// <c>ttftMs</c> and its <c>X-LlmApp-Ttft-Ms</c> header. Null: none, and admission refuses it only when full.
    /// </summary>
    public TimeSpan? TimeToFirstTokenObjective { get; init; }

    /// <summary>The API the request came by (<see cref="ChatApis"/>): its metrics' <c>llmapp.api</c> tag.</summary>
    public string Api { get; init; } = ChatApis.ChatCompletions;
}
