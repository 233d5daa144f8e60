using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Resilience;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Failures;

/// <summary>
/// Decides, in one place, what a failure of a chat call means for the client: 503 (with Retry-After) while the
/// backend is down, loading or the server is stopping; 504 when it is too slow; 502 when it fails, breaks its
/// stream or dies mid-answer. The first exception in the chain that says something decides.
/// </summary>
public static class FailureClassifier
{
    private const string UpstreamType = GatewayFailure.UpstreamErrorType;

    public static GatewayFailure Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (Describe(current) is { } failure)
            {
                return failure;
            }
        }

        return GatewayFailure.ServerError(exception.GetType().Name);
    }

    private static GatewayFailure? Describe(Exception exception) => exception switch
    {
        AdmissionRefusedException refused => Refused(refused),
        InvalidCallException wrong => GatewayFailure.InvalidRequest(wrong.Message, wrong.Param, wrong.Code),
        GenerationTimeoutException { Timeout: GenerationTimeout.Shutdown } shutdown =>
            GatewayFailure.Unavailable(shutdown.Message, "server_shutting_down", "shutdown", TimeSpan.FromSeconds(5)),
        GenerationTimeoutException timeout =>
            Upstream(StatusCodes.Status504GatewayTimeout, timeout.Message, "timeout", timeout.Timeout switch
            {
                GenerationTimeout.FirstToken => "timeout_first_token",
                GenerationTimeout.Idle => "timeout_idle",
                _ => "timeout_total",
            }),
        BrokenCircuitException broken =>
            GatewayFailure.Unavailable("The model backend is down; requests are refused until it recovers.", "backend_unavailable", "circuit_open",
                broken.RetryAfter ?? TimeSpan.FromSeconds(1)),
        BackendFailureException { Fault: BackendFault.Status } status => FromStatus(status),
        BackendFailureException { Fault: BackendFault.ErrorEvent } error =>
            Upstream(StatusCodes.Status502BadGateway, $"The model backend failed mid-answer: {error.Message}", "backend_error", "backend_error"),
        BackendFailureException { Fault: BackendFault.OutOfService } outOfService =>
            GatewayFailure.Unavailable(outOfService.Message, "backend_unavailable", "backend_out_of_service", TimeSpan.FromSeconds(5)),
        BackendFailureException malformed =>
            Upstream(StatusCodes.Status502BadGateway, malformed.Message, "backend_protocol_error", "backend_protocol_error"),
        IncompleteResponseException incomplete =>
            Upstream(StatusCodes.Status502BadGateway, incomplete.Message, "backend_incomplete", "backend_incomplete"),
        // Not connected at all: the backend is down or not listening yet, and another try may find it.
        HttpRequestException notConnected when BackendResilience.IsNotConnected(notConnected) =>
            GatewayFailure.Unavailable("The model backend is unreachable; try again shortly.", "backend_unavailable", "backend_unreachable",
                TimeSpan.FromSeconds(2)),
        // Reached, then lost: the connection closed or broke while the answer was read (a single answer's body cut
        // off comes as an HttpRequestException around the IOException).
        IOException or HttpRequestException =>
            Upstream(StatusCodes.Status502BadGateway, "The connection to the model backend was lost before the answer was complete.",
                "backend_disconnected", "backend_disconnected"),
        _ => null,
    };

    /// <summary>
    /// What a client is told when admission turns it away: 429 when the gateway is full or its time-to-first-token
    /// objective would be missed (code <c>ttft_objective</c>, or <c>decode_rate_floor</c> when the floor held slots
    /// back), 503 when it is stopping or no backend is up, 401 for a revoked key.
    /// </summary>
    private static GatewayFailure Refused(AdmissionRefusedException refused)
    {
        var failure = Refused(refused.Outcome, refused.RetryAfter);
        return refused.Detail is { } detail
            ? failure with { Error = failure.Error with { Message = $"{failure.Error.Message} {detail}", Code = "decode_rate_floor" } }
            : failure;
    }

    private static GatewayFailure Refused(AdmissionOutcome outcome, TimeSpan? retryAfter) => outcome switch
    {
        AdmissionOutcome.TtftObjective => new(StatusCodes.Status429TooManyRequests,
            new("The time to first token this request is promised (Slo:TimeToFirstToken, the key's ttftMs or the X-LlmApp-Ttft-Ms header) "
                + "cannot be met now: the model slots are busy for longer. Retry after the time Retry-After gives, or ask elsewhere.", "requests", null,
                "ttft_objective"),
            nameof(AdmissionOutcome.TtftObjective), retryAfter ?? TimeSpan.FromSeconds(1)),
        AdmissionOutcome.NoBackend => GatewayFailure.Unavailable(
            "No model backend is up, so the time to first token this request is promised cannot be met; try again shortly.", "ttft_objective",
            nameof(AdmissionOutcome.NoBackend), TimeSpan.FromSeconds(2)),
        AdmissionOutcome.ShuttingDown =>
            GatewayFailure.Unavailable("The server is shutting down; try again.", "server_shutting_down", nameof(AdmissionOutcome.ShuttingDown), TimeSpan.FromSeconds(5)),
        AdmissionOutcome.QueueTimeout =>
            GatewayFailure.Overloaded("No model slot came free within the queue's longest wait (or the request's deadline); retry shortly.",
                nameof(AdmissionOutcome.QueueTimeout)),
        AdmissionOutcome.QueueShare =>
            GatewayFailure.Overloaded("All model slots are busy and this API key held more than its share of the full queue; retry shortly.",
                nameof(AdmissionOutcome.QueueShare)),
        AdmissionOutcome.KeyRevoked => GatewayFailure.Unauthorized("The API key was revoked while the request waited for a model slot.") with
        {
            ErrorType = nameof(AdmissionOutcome.KeyRevoked),
        },
        _ => GatewayFailure.Overloaded("All model slots are busy and the queue is full; retry shortly.", nameof(AdmissionOutcome.QueueFull)),
    };

    private static GatewayFailure FromStatus(BackendFailureException failure) => failure.Status switch
    {
        StatusCodes.Status503ServiceUnavailable =>
            GatewayFailure.Unavailable("The model backend is not ready (loading the model); try again shortly.", "backend_unavailable", "http_503",
                TimeSpan.FromSeconds(2)),
        StatusCodes.Status429TooManyRequests =>
            GatewayFailure.Overloaded($"The model backend is busy: {failure.Message}", "http_429"),
        >= 400 and < 500 when failure.IsContextExceeded =>
            new(StatusCodes.Status400BadRequest,
                new OpenAIError($"The prompt is longer than this model's context: {FirstLine(failure.Message)}", "invalid_request_error", "messages",
                    "context_length_exceeded"),
                $"http_{failure.Status}"),
        >= 400 and < 500 =>
            new(StatusCodes.Status400BadRequest,
                new OpenAIError($"The model backend refused the request: {FirstLine(failure.Message)}", "invalid_request_error", null, null),
                $"http_{failure.Status}"),
        // The same code as a failure mid-stream: a backend's own error is a backend error, whichever way it came.
        _ => Upstream(StatusCodes.Status502BadGateway, $"The model backend failed with status {failure.Status}: {FirstLine(failure.Message)}",
            "backend_error", $"http_{failure.Status}"),
    };

    private static GatewayFailure Upstream(int status, string message, string code, string errorType) =>
        new(status, new OpenAIError(message, UpstreamType, null, code), errorType);

    private static string FirstLine(string message)
    {
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline].TrimEnd();
    }
}
