namespace LlmApp.ApiKeys;

/// <summary>
/// What one key may use: requests and tokens per minute, and requests at once; and the time to first token its
/// requests are promised (<paramref name="TimeToFirstTokenMs"/>: admission refuses at once what it predicts would
/// miss it). Null is no limit. A record, so that a reload that changes a key's limits gives it fresh limiters (they
/// are partitioned by name and limits).
/// </summary>
public sealed record KeyLimits(int? RequestsPerMinute, int? TokensPerMinute, int? MaxConcurrent, int? TimeToFirstTokenMs = null)
{
    public static readonly KeyLimits None = new(null, null, null);

    public bool IsLimited => RequestsPerMinute is not null || TokensPerMinute is not null || MaxConcurrent is not null;
}
