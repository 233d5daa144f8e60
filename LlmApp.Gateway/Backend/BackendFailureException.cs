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
public sealed class BackendFailureException(BackendFault fault, string message, int? status = null, string? errorType = null, string? errorCode = null)
    : Exception(message)
{
    /// <summary>llama-server's type for a prompt longer than the context.</summary>
    public const string ContextExceeded = "exceed_context_size_error";

    /// <summary>OpenAI's code for it (and that of servers that copy OpenAI's errors).</summary>
    public const string ContextLengthExceeded = "context_length_exceeded";

    public BackendFault Fault { get; } = fault;

    /// <summary>The HTTP status it answered with, for <see cref="BackendFault.Status"/>.</summary>
    public int? Status { get; } = status;

    /// <summary>The <c>type</c> of its error object, if it gave one (llama-server: <see cref="ContextExceeded"/>, ...).</summary>
    public string? ErrorType { get; } = errorType;

    /// <summary>The <c>code</c> of its error object, when it is a string (OpenAI: <see cref="ContextLengthExceeded"/>, ...).</summary>
    public string? ErrorCode { get; } = errorCode;

    /// <summary>
    /// Whether it refused a prompt (with max_tokens) longer than the model's context: llama-server says so by type,
    /// OpenAI by code, and vLLM, whose type is only <c>BadRequestError</c>, in its message ("This model's maximum context
    /// length is 8192 tokens...", "...longer than the maximum model length of 8192").
    /// </summary>
    public bool IsContextExceeded =>
        ErrorType == ContextExceeded || ErrorCode == ContextLengthExceeded ||
        Message.Contains("maximum context length", StringComparison.OrdinalIgnoreCase) ||
        Message.Contains("maximum model length", StringComparison.OrdinalIgnoreCase);
}
