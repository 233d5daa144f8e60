using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Resilience;
using Polly.CircuitBreaker;

namespace LlmApp.Tests.Gateway;

/// <summary>Every failure a chat call can end with, and what the client and the metrics are told about it.</summary>
public sealed class FailureClassifierTests
{
    public static TheoryData<string, Exception, int, string?, string, int?> Failures() => new()
    {
        { "first-token timeout", new GenerationTimeoutException(GenerationTimeout.FirstToken), 504, "timeout", "timeout_first_token", null },
        { "idle timeout", new GenerationTimeoutException(GenerationTimeout.Idle, new OperationCanceledException()), 504, "timeout", "timeout_idle", null },
        { "total deadline", new GenerationTimeoutException(GenerationTimeout.Total), 504, "timeout", "timeout_total", null },
        { "drain window over", new GenerationTimeoutException(GenerationTimeout.Shutdown), 503, "server_shutting_down", "shutdown", 5 },
        { "circuit open", new BrokenCircuitException("open", TimeSpan.FromSeconds(3)), 503, "backend_unavailable", "circuit_open", 3 },
        { "circuit isolated by the monitor", new IsolatedCircuitException("isolated"), 503, "backend_unavailable", "circuit_open", 1 },
        { "model loading", new BackendFailureException(BackendFault.Status, "Loading model", 503), 503, "backend_unavailable", "http_503", 2 },
        { "backend busy", new BackendFailureException(BackendFault.Status, "busy", 429), 429, "rate_limit_exceeded", "http_429", 1 },
        { "backend refuses", new BackendFailureException(BackendFault.Status, "bad grammar", 400), 400, null, "http_400", null },
        { "prompt beyond the context", new BackendFailureException(BackendFault.Status, "request (9028 tokens) exceeds the available context size (4096 tokens)", 400,
            BackendFailureException.ContextExceeded), 400, "context_length_exceeded", "http_400", null },
        // vLLM's own words (its type is only BadRequestError): 0.6-0.9, and 0.10 onwards.
        { "prompt beyond vLLM's context", new BackendFailureException(BackendFault.Status, "This model's maximum context length is 8192 tokens. However, you " +
            "requested 9000 tokens (8000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.", 400,
            "BadRequestError"), 400, "context_length_exceeded", "http_400", null },
        { "prompt beyond vLLM's model length", new BackendFailureException(BackendFault.Status,
            "The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that `max_model_len` is no smaller than the number of text tokens.",
            400, "BadRequestError"), 400, "context_length_exceeded", "http_400", null },
        { "prompt beyond an OpenAI-like server's context", new BackendFailureException(BackendFault.Status, "too long", 400, "invalid_request_error",
            BackendFailureException.ContextLengthExceeded), 400, "context_length_exceeded", "http_400", null },
        { "backend crashes", new BackendFailureException(BackendFault.Status, "boom", 500), 502, "backend_error", "http_500", null },
        { "backend taken out of service", new BackendFailureException(BackendFault.OutOfService, "hung"), 503, "backend_unavailable", "backend_out_of_service", 5 },
        { "error event mid-stream", new BackendFailureException(BackendFault.ErrorEvent, "invalid UTF-8"), 502, "backend_error", "backend_error", null },
        { "malformed event", new BackendFailureException(BackendFault.MalformedEvent, "bad"), 502, "backend_protocol_error", "backend_protocol_error", null },
        { "no finish reason", new IncompleteResponseException("cut"), 502, "backend_incomplete", "backend_incomplete", null },
        { "connection lost mid-body", new HttpIOException(HttpRequestError.ResponseEnded), 502, "backend_disconnected", "backend_disconnected", null },
        { "connection refused", new HttpRequestException(HttpRequestError.ConnectionError), 503, "backend_unavailable", "backend_unreachable", 2 },
        { "name not resolved", new HttpRequestException(HttpRequestError.NameResolutionError), 503, "backend_unavailable", "backend_unreachable", 2 },
        { "connection lost before a single answer's headers", new HttpRequestException(HttpRequestError.ResponseEnded, "ended"), 502, "backend_disconnected",
            "backend_disconnected", null },
        { "single answer's body cut", new HttpRequestException("Error while copying content to a stream.", new HttpIOException(HttpRequestError.ResponseEnded)),
            502, "backend_disconnected", "backend_disconnected", null },
        { "wrapped connection loss", new InvalidOperationException("outer", new IOException("reset")), 502, "backend_disconnected", "backend_disconnected", null },
        { "a bug", new InvalidOperationException("oops"), 500, null, "InvalidOperationException", null },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void EachFailureHasOneStatusCodeErrorTypeAndRetryAfter(string failure, Exception exception, int status, string? code, string errorType, int? retryAfterSeconds)
    {
        var classified = FailureClassifier.Classify(exception);

        Assert.True(status == classified.Status, $"{failure}: status {classified.Status}");
        Assert.Equal(code, classified.Error.Code);
        Assert.Equal(errorType, classified.ErrorType);
        Assert.Equal(retryAfterSeconds, (int?)classified.RetryAfter?.TotalSeconds);
        Assert.False(string.IsNullOrWhiteSpace(classified.Error.Message));
        Assert.DoesNotContain("   at ", classified.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBackendsOwnWordsReachTheClientOnAMidStreamError()
    {
        var classified = FailureClassifier.Classify(new BackendFailureException(BackendFault.ErrorEvent, "does not match the expected Content-only format"));

        Assert.Contains("does not match the expected Content-only format", classified.Error.Message, StringComparison.Ordinal);
        Assert.Equal("upstream_error", classified.Error.Type);
    }
}
