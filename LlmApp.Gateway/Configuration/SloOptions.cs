using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Configuration;

/// <summary>
/// The service level admission keeps, bound from the <c>Slo</c> section. Unset (the default), admission refuses only
/// when its queue is full or a wait outlasts its bound, as without objectives.
/// </summary>
public sealed class SloOptions
{
    public const string SectionName = "Slo";

    /// <summary>The request header that sets a request's own time-to-first-token objective, in milliseconds.</summary>
    public const string TimeToFirstTokenHeader = "X-LlmApp-Ttft-Ms";

    /// <summary>
    /// Time to first token every chat request is promised. A request admission predicts would miss it (the wait for a
    /// slot, then its prompt at the backend's measured prefill rate) is refused at once with 429 and <c>Retry-After</c>,
    /// and one whose wait in the queue outlasts it leaves with the same answer. A key's <c>ttftMs</c> and the request's
    /// <c>X-LlmApp-Ttft-Ms</c> header may tighten it; the tightest wins.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan? TimeToFirstToken { get; set; }

    /// <summary>
    /// Tokens a second each running stream keeps: admission does not start one more stream on a backend whose measured
    /// decode rate at that many streams is below it (one stream always runs).
    /// </summary>
    [Range(0.001, 1_000_000)]
    public double? MinTokensPerSecond { get; set; }
}
