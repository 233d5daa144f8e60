namespace LlmApp.ApiKeys;

/// <summary>A key as the gateway keeps it: its name, the SHA-256 of its UTF-8 bytes (never the key) and its limits.</summary>
public sealed record StoredKey(string Name, byte[] Hash, bool Enabled, KeyLimits Limits);
