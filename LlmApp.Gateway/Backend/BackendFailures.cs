using System.ClientModel;
using System.Diagnostics.CodeAnalysis;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Resilience;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Turns what can go wrong talking to the backend into the OpenAI errors a client can act on: 503 (with
/// Retry-After) while it is down or loading, 504 when it is too slow, 502 when it fails or dies mid-answer.
/// The exception may come wrapped by the OpenAI SDK, so the whole chain is looked at.
/// </summary>
internal static partial class BackendFailures
{
    /// <summary>The HTTP answer for a failure before the response started.</summary>
    public static bool TryTranslate(Exception exception, GenerationTimeout timeout, [NotNullWhen(true)] out IResult? result)
    {
        result = null;
        if (timeout != GenerationTimeout.None)
        {
            result = timeout == GenerationTimeout.Shutdown
                ? new RetryAfterResult(OpenAIErrors.BackendUnavailable("The server is shutting down; try again."), TimeSpan.FromSeconds(5))
                : OpenAIErrors.GatewayTimeout(TimeoutMessage(timeout));
            return true;
        }

        if (Find<BrokenCircuitException>(exception) is { } broken)
        {
            result = new RetryAfterResult(
                OpenAIErrors.BackendUnavailable("The model backend is down; requests are refused until it recovers."), broken.RetryAfter());
            return true;
        }

        if (Find<ClientResultException>(exception) is { Status: >= 400 } client)
        {
            result = client.Status switch
            {
                503 => new RetryAfterResult(OpenAIErrors.BackendUnavailable("The model is still loading; try again shortly."), TimeSpan.FromSeconds(2)),
                400 => OpenAIErrors.InvalidRequest($"The model backend refused the request: {FirstLine(client.Message)}"),
                _ => OpenAIErrors.BadGateway($"The model backend failed with status {client.Status}."),
            };
            return true;
        }

        if (Find<HttpIOException>(exception) is not null || Find<IOException>(exception) is not null)
        {
            result = OpenAIErrors.BadGateway("The connection to the model backend was lost before the answer was complete.");
            return true;
        }

        if (Find<HttpRequestException>(exception) is not null)
        {
            result = new RetryAfterResult(OpenAIErrors.BackendUnavailable("The model backend is unreachable; try again shortly."), TimeSpan.FromSeconds(2));
            return true;
        }

        return false;
    }

    /// <summary>The error event for a failure once a stream has started; it is the stream's last event.</summary>
    public static OpenAIErrorResponse Describe(Exception exception, GenerationTimeout timeout)
    {
        return timeout switch
        {
            GenerationTimeout.Shutdown => Error("The server is shutting down; the answer was cut short.", "server_shutting_down"),
            not GenerationTimeout.None => Error(TimeoutMessage(timeout), "timeout"),
            _ when Find<ClientResultException>(exception) is { Status: >= 400 } client =>
                Error($"The model backend failed mid-stream with status {client.Status}.", "bad_gateway"),
            _ when Find<HttpRequestException>(exception) is not null || Find<IOException>(exception) is not null =>
                Error("The connection to the model backend was lost mid-stream.", "backend_disconnected"),
            _ => Error("The server had an error while streaming the response.", "server_error"),
        };

        static OpenAIErrorResponse Error(string message, string code) => new(new OpenAIError(message, "upstream_error", null, code));
    }

    /// <summary>The bounded <c>error.type</c> of a failure, for metrics.</summary>
    public static string ErrorType(Exception exception, GenerationTimeout timeout) => timeout switch
    {
        GenerationTimeout.FirstToken => "timeout_first_token",
        GenerationTimeout.Idle => "timeout_idle",
        GenerationTimeout.Total => "timeout_total",
        GenerationTimeout.Shutdown => "shutdown",
        _ when Find<BrokenCircuitException>(exception) is not null => "circuit_open",
        _ when Find<ClientResultException>(exception) is { Status: >= 400 } client => $"http_{client.Status}",
        _ when Find<HttpIOException>(exception) is not null || Find<IOException>(exception) is not null => "backend_disconnected",
        _ when Find<HttpRequestException>(exception) is not null => "backend_unreachable",
        _ => exception.GetType().Name,
    };

    public static void Log(ILogger logger, Exception exception, GenerationTimeout timeout) =>
        LogBackendFailure(logger, timeout == GenerationTimeout.None ? exception.GetType().Name : $"{timeout} timeout", FirstLine(exception.Message));

    private static string TimeoutMessage(GenerationTimeout timeout) => timeout switch
    {
        GenerationTimeout.FirstToken => "The model backend produced no first token in time.",
        GenerationTimeout.Idle => "The model backend stopped producing tokens.",
        _ => "The request did not finish before its deadline.",
    };

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }

    private static string FirstLine(string message)
    {
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline].TrimEnd();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backend call failed ({Failure}): {Reason}")]
    private static partial void LogBackendFailure(ILogger logger, string failure, string reason);
}
