using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Resilience;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Which failures of an answer already under way are its backend's fault, and so worth continuing elsewhere: the
/// cause as <c>llmapp.resume.cause</c> names it, or null for a failure that must end the answer (a deadline of the
/// request's own, a client that left, a malformed event, a refusal).
/// </summary>
internal static class ResumeCause
{
    public const string Disconnect = "disconnect";
    public const string ErrorEvent = "error_event";
    public const string ErrorStatus = "error_status";
    public const string IdleTimeout = "idle_timeout";
    public const string OutOfService = "out_of_service";

    public static string? Of(Exception failure) => failure switch
    {
        // The connection dropped (a crash, a kill, a reset) or the stream ended cleanly without a finish reason.
        HttpRequestException or IOException or IncompleteResponseException => Disconnect,
        BackendFailureException { Fault: BackendFault.ErrorEvent } => ErrorEvent,
        BackendFailureException { Fault: BackendFault.OutOfService } => OutOfService,
        // A 503 says it never took the call (its model still loading): that moves it as a failover, not a resume.
        BackendFailureException { Fault: BackendFault.Status, Status: >= 500 and not StatusCodes.Status503ServiceUnavailable } => ErrorStatus,
        GenerationTimeoutException { Timeout: GenerationTimeout.Idle } => IdleTimeout,
        _ => null,
    };
}
