using System.ClientModel;
using System.Diagnostics.CodeAnalysis;
using LlmApp.Gateway.OpenAI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Turns what can go wrong talking to the backend into the OpenAI errors a client can act on:
/// 503 while it is down or loading, 504 when it is too slow, 502 for anything else it got wrong.
/// </summary>
internal static partial class BackendFailures
{
    public static bool TryTranslate(Exception exception, CancellationToken requestAborted, [NotNullWhen(true)] out IResult? result)
    {
        result = exception switch
        {
            // The client went away: there is nobody to answer.
            OperationCanceledException when requestAborted.IsCancellationRequested => Results.Empty,
            OperationCanceledException or TimeoutException =>
                OpenAIErrors.GatewayTimeout("The model backend did not answer in time."),
            HttpRequestException =>
                OpenAIErrors.BackendUnavailable("The model backend is unreachable; try again shortly."),
            ClientResultException { Status: 503 } =>
                OpenAIErrors.BackendUnavailable("The model is still loading; try again shortly."),
            ClientResultException { Status: 400 } client =>
                OpenAIErrors.InvalidRequest($"The model backend refused the request: {BackendMessage(client)}"),
            ClientResultException client =>
                OpenAIErrors.BadGateway($"The model backend failed with status {client.Status}."),
            _ => null,
        };

        return result is not null;
    }

    /// <summary>The error body for a failure that happens once a stream has started, sent as its last event.</summary>
    public static bool TryDescribe(Exception exception, [NotNullWhen(true)] out OpenAIErrorResponse? error)
    {
        error = exception switch
        {
            OperationCanceledException or TimeoutException => Error("The model backend stopped responding mid-stream.", "timeout"),
            HttpRequestException or IOException => Error("The connection to the model backend was lost mid-stream.", "backend_disconnected"),
            ClientResultException client => Error($"The model backend failed mid-stream with status {client.Status}.", "bad_gateway"),
            _ => Error("The server had an error while streaming the response.", "server_error"),
        };
        return true;

        static OpenAIErrorResponse Error(string message, string code) => new(new OpenAIError(message, "upstream_error", null, code));
    }

    public static void Log(ILogger logger, Exception exception) => LogBackendFailure(logger, exception.GetType().Name, exception.Message);

    private static string BackendMessage(ClientResultException exception)
    {
        // ClientResultException's message embeds the raw response; keep only its first line.
        var message = exception.Message;
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline].TrimEnd();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backend call failed ({ExceptionType}): {Reason}")]
    private static partial void LogBackendFailure(ILogger logger, string exceptionType, string reason);
}
