namespace LlmApp.Gateway.Backend;

/// <summary>What the backend said or sent that makes its answer a failure.</summary>
public enum BackendFault
{
    /// <summary>It answered the request with an HTTP error status, before any body.</summary>
    Status,

    /// <summary>It sent an error event in the middle of its stream (llama-server: <c>data: {"error":{...}}</c>), then stopped.</summary>
    ErrorEvent,

    /// <summary>It sent an event that is not a chat completion chunk.</summary>
    MalformedEvent,

    /// <summary>It stopped answering its health probes while the call ran, and was taken out of service.</summary>
    OutOfService,
}

/// <summary>The backend failed the call; <see cref="Exception.Message"/> is what it said, or what was wrong.</summary>
public sealed class BackendFailureException(BackendFault fault, string message, int? status = null, string? errorType = null) : Exception(message)
{
    /// <summary>llama-server's type for a prompt longer than the context.</summary>
    public const string ContextExceeded = "exceed_context_size_error";

    public BackendFault Fault { get; } = fault;

    /// <summary>The HTTP status it answered with, for <see cref="BackendFault.Status"/>.</summary>
    public int? Status { get; } = status;

    /// <summary>The <c>type</c> of its error object, if it gave one (llama-server: <see cref="ContextExceeded"/>, ...).</summary>
    public string? ErrorType { get; } = errorType;
}
