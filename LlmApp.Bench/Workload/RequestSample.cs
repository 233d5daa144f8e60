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

    public static RequestSample Failed(string error, double endToEndMs) => new(false, error, 0, endToEndMs, 0, null, null, []);
}
