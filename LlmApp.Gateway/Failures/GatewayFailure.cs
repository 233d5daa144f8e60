using System.Globalization;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Streaming;

namespace LlmApp.Gateway.Failures;

/// <summary>
/// Everything the gateway says about one failure, decided once and used by every path: the HTTP status before the
/// first byte, the OpenAI error object (as the body, or as a stream's last event), the bounded <c>error.type</c> for
/// metrics and logs, and when to come back. Backend failures come from <see cref="FailureClassifier"/>; refusals of
/// the gateway's own from the factories here.
/// </summary>
public sealed record GatewayFailure(int Status, OpenAIError Error, string ErrorType, TimeSpan? RetryAfter = null)
{
    public const string UpstreamErrorType = "upstream_error";

    public OpenAIErrorResponse Body => new(Error);

    /// <summary>The answer to a request whose response has not started.</summary>
    public IResult ToResult() => new FailureResult(this);

    public static GatewayFailure InvalidRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, new(message, "invalid_request_error", param, code), code ?? "invalid_request_error");

    /// <summary>401: no key, or not one this server takes. The answer carries <c>WWW-Authenticate: Bearer</c> (RFC 6750).</summary>
    public static GatewayFailure Unauthorized(string message) =>
        new(StatusCodes.Status401Unauthorized, new(message, "invalid_request_error", null, "invalid_api_key"), "invalid_api_key");

    /// <summary>413: the body is larger than the server takes.</summary>
    public static GatewayFailure TooLarge(string message) =>
        new(StatusCodes.Status413PayloadTooLarge, new(message, "invalid_request_error", null, "request_too_large"), "request_too_large");

    /// <summary>408: the body did not arrive in time.</summary>
    public static GatewayFailure RequestTimeout(string message) =>
        new(StatusCodes.Status408RequestTimeout, new(message, "invalid_request_error", null, "request_timeout"), "request_timeout");

    public static GatewayFailure ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound,
            new($"The model '{model}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found"),
            "model_not_found");

    public static GatewayFailure NotFound(string path) =>
        new(StatusCodes.Status404NotFound, new($"Unknown request URL: {path}.", "invalid_request_error", null, "unknown_url"), "unknown_url");

    /// <summary>An object the path names that does not exist (a response id the gateway never kept).</summary>
    public static GatewayFailure NotFoundObject(string message) =>
        new(StatusCodes.Status404NotFound, new(message, "invalid_request_error", null, "not_found"), "not_found");

    public static GatewayFailure MethodNotAllowed(string method, string path) =>
        new(StatusCodes.Status405MethodNotAllowed,
            new($"Method {method} is not allowed on {path}.", "invalid_request_error", null, "method_not_allowed"), "method_not_allowed");

    /// <summary>429: every slot and the queue are taken, or the wait for a slot passed the deadline.</summary>
    public static GatewayFailure Overloaded(string message, string errorType) =>
        new(StatusCodes.Status429TooManyRequests, new(message, "requests", null, "rate_limit_exceeded"), errorType, TimeSpan.FromSeconds(1));

    /// <summary>
    /// 429: the request's API key is over one of its limits (<paramref name="limit"/>: <c>requests</c> or <c>tokens</c>,
    /// OpenAI's error type for each). No <paramref name="retryAfter"/>: waiting will not help, the request is too large.
    /// </summary>
    public static GatewayFailure RateLimited(string message, string limit, TimeSpan? retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, new(message, limit, null, "rate_limit_exceeded"), "rate_limited", retryAfter);

    /// <summary>503 while the backend cannot take requests; the client may come back after <paramref name="retryAfter"/>.</summary>
    public static GatewayFailure Unavailable(string message, string code, string errorType, TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable, new(message, UpstreamErrorType, null, code), errorType, retryAfter);

    public static GatewayFailure ServerError(string errorType) =>
        new(StatusCodes.Status500InternalServerError,
            new("The server had an error while processing your request.", "server_error", null, null), errorType);

    /// <summary>An <see cref="IResult"/> that writes the failure; the request log reads the failure back from it.</summary>
    public sealed class FailureResult(GatewayFailure failure) : IResult, IStatusCodeHttpResult
    {
        public GatewayFailure Failure { get; } = failure;

        public int? StatusCode => Failure.Status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (Failure.RetryAfter is { } retryAfter)
            {
                // Whole seconds for RFC 9110, and milliseconds, which the OpenAI SDKs read first.
                var milliseconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds));
                httpContext.Response.Headers.RetryAfter = ((milliseconds + 999) / 1000).ToString(CultureInfo.InvariantCulture);
                httpContext.Response.Headers["retry-after-ms"] = milliseconds.ToString(CultureInfo.InvariantCulture);
            }

            // The Messages API's endpoints, and any request of an Anthropic client (it sends anthropic-version): Anthropic's shape.
            if (httpContext.GetEndpoint()?.Metadata.GetMetadata<AnthropicErrorShape>() is not null || httpContext.Request.Headers.ContainsKey("anthropic-version"))
            {
                return JsonWriterResult.Of(Failure, static (json, failure) => AnthropicErrors.Write(json, failure.Status, failure.Error.Message), Failure.Status)
                    .ExecuteAsync(httpContext);
            }

            if (Failure.Status == StatusCodes.Status401Unauthorized)
            {
                httpContext.Response.Headers.WWWAuthenticate = "Bearer";
            }

            return TypedResults.Json(Failure.Body, OpenAIJsonContext.Wire.OpenAIErrorResponse, statusCode: Failure.Status)
                .ExecuteAsync(httpContext);
        }
    }
}
