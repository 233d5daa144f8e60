namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// A response that ended without saying how it ended (no finish reason): it may be cut anywhere, so it must reach
/// the client as a failure, never as a complete answer.
/// </summary>
public sealed class IncompleteResponseException(string message) : Exception(message);
