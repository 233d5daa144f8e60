namespace LlmApp.Gateway.Authentication;

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

    // Read and kept for the per-key rate limits to come (issue 12); nothing enforces them yet.
    public int? RequestsPerMinute { get; set; }

    public int? TokensPerMinute { get; set; }

    public int? MaxConcurrent { get; set; }
}
