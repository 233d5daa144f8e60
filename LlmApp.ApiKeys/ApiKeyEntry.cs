namespace LlmApp.ApiKeys;

/// <summary>
/// One named key, from <c>Auth:Keys</c> or the keys file. A class, not a record: a record's generated
/// <c>ToString</c> would print the key into whatever logged the object.
/// </summary>
public sealed class ApiKeyEntry
{
    /// <summary>What logs and the request log line show for requests made with this key; the key itself never is.</summary>
    public string Name { get; set; } = "";

    public string Key { get; set; } = "";

    /// <summary>False refuses the key without removing it from the file.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests per minute (chat and embeddings); unset: no limit. Over it: 429 with <c>Retry-After</c>.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Prompt and completion tokens per minute; unset: no limit.</summary>
    public int? TokensPerMinute { get; set; }

    /// <summary>Requests of this key running at once; more wait their turn in admission's queue. Unset: no limit.</summary>
    public int? MaxConcurrent { get; set; }

    /// <summary>
    /// The time to first token, in milliseconds, this key's requests must have or be refused at once (429 with
    /// <c>Retry-After</c>); the tightest of it, <c>Slo:TimeToFirstToken</c> and the request's own header wins. Unset: none of its own.
    /// </summary>
    public int? TtftMs { get; set; }

    public KeyLimits ToLimits() => new(RequestsPerMinute, TokensPerMinute, MaxConcurrent, TtftMs);
}
