namespace LlmApp.Bench.Workload;

/// <summary>What one request measured. Times are in milliseconds from sending the request.</summary>
internal sealed record RequestSample(
    bool Ok,
    string? Error,
    double TimeToFirstTokenMs,
    double EndToEndMs,
    int OutputTokens,
    int? PromptTokens,
    int? CachedTokens,
    IReadOnlyList<double> InterTokenLatenciesMs,
    string? Text = null)
{
    /// <summary>Time per output token after the first; null for an answer of one token.</summary>
    public double? TimePerOutputTokenMs => OutputTokens > 1 ? (EndToEndMs - TimeToFirstTokenMs) / (OutputTokens - 1) : null;

    /// <summary>
    /// The server turned it away for overload (429) instead of answering: in an open-loop run at more than the
    /// server's capacity, an answer in its own right, counted apart from failures, with how long it took to come.
    /// </summary>
    public bool Refused { get; init; }

    public static RequestSample Failed(string error, double endToEndMs) => new(false, error, 0, endToEndMs, 0, null, null, []);
}
