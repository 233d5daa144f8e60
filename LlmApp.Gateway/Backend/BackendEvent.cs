namespace LlmApp.Gateway.Backend;

/// <summary>
/// One event of an OpenAI-compatible stream, with only the fields the gateway reads (<see cref="BackendEventParser"/>).
/// A struct, so that reading a token allocates its text and nothing else.
/// </summary>
internal readonly record struct BackendEvent(
    bool Done,
    string? Id,
    string? Model,
    long? Created,
    string? Content,
    string? FinishReason,
    List<ToolCallDelta>? ToolCalls,
    byte[]? Logprobs,
    BackendUsage? Usage,
    string? Error,
    string? StopSequence = null,
    PromptProgress? Progress = null);

/// <summary>llama-server's <c>prompt_progress</c>: the prompt's tokens and those its cache held, sent before generation.</summary>
internal readonly record struct PromptProgress(int Total, int Cached);

/// <summary>A piece of a streamed tool call: an id and name first, then the arguments in pieces, all keyed by index.</summary>
internal sealed record ToolCallDelta(int Index, string? Id, string? Name, string? Arguments);

internal sealed record BackendUsage(int? PromptTokens, int? CompletionTokens, int? TotalTokens, int? CachedTokens)
{
    /// <summary>
    /// The key of <see cref="GenerationMs"/> in <c>UsageDetails.AdditionalCounts</c>, in µs: with it, telemetry knows when
    /// an answer that did not stream had its first token.
    /// </summary>
    public const string GenerationMicrosecondsKey = "llmapp.generation_us";

    /// <summary>
    /// The key in <c>UsageDetails.AdditionalCounts</c> of a continuation's usage: the tokens of its prompt before the text
    /// already sent (the client's own prompt), as the backend counted them.
    /// </summary>
    public const string PromptBeforeContinuationKey = "llmapp.prompt_before_continuation";

    /// <summary>How long the answer's tokens took to generate, from llama-server's <c>timings.predicted_ms</c>.</summary>
    public double? GenerationMs => Timings is { PredictedMs: > 0 } timings ? timings.PredictedMs : null;

    /// <summary>llama-server's own account of the call (<c>timings</c>); null from a backend that does not send one.</summary>
    public BackendTimings? Timings { get; init; }
}

/// <summary>
/// llama-server's <c>timings</c>: the prompt tokens it read (<paramref name="PromptTokens"/>, those not found in its
/// cache) and how long that took, the tokens it generated and how long that took, and the prompt tokens it reused
/// from its cache.
/// </summary>
internal sealed record BackendTimings(int PromptTokens, double PromptMs, int PredictedTokens, double PredictedMs, int? CachedTokens);
