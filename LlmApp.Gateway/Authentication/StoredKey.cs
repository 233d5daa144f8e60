namespace LlmApp.Gateway.Authentication;

/// <summary>A key as the gateway keeps it: its name, the SHA-256 of its UTF-8 bytes (never the key) and its limits.</summary>
internal sealed record StoredKey(string Name, byte[] Hash, bool Enabled, KeyLimits Limits);
