namespace LlmApp.Gateway.OpenAI;

/// <summary>Builds the error results clients of the OpenAI API expect, one factory per kind of failure.</summary>
internal static class OpenAIErrors
{
    public static IResult InvalidRequest(string message, string? param = null, string? code = null) =>
        Create(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static IResult ModelNotFound(string model) =>
        Create(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or you do not have access to it.",
            "invalid_request_error", "model", "model_not_found");

    public static IResult NotFound(string path) =>
        Create(StatusCodes.Status404NotFound, $"Unknown request URL: {path}.", "invalid_request_error", null, "unknown_url");

    public static IResult Overloaded(string message) =>
        Create(StatusCodes.Status429TooManyRequests, message, "requests", null, "rate_limit_exceeded");

    public static IResult BadGateway(string message) =>
        Create(StatusCodes.Status502BadGateway, message, "upstream_error", null, "bad_gateway");

    public static IResult BackendUnavailable(string message) =>
        Create(StatusCodes.Status503ServiceUnavailable, message, "upstream_error", null, "backend_unavailable");

    public static IResult GatewayTimeout(string message) =>
        Create(StatusCodes.Status504GatewayTimeout, message, "upstream_error", null, "timeout");

    public static IResult ServerError() =>
        Create(StatusCodes.Status500InternalServerError, "The server had an error while processing your request.",
            "server_error", null, null);

    public static IResult Create(int statusCode, string message, string type, string? param, string? code) =>
        TypedResults.Json(
            new OpenAIErrorResponse(new OpenAIError(message, type, param, code)),
            OpenAIJsonContext.Default.OpenAIErrorResponse,
            statusCode: statusCode);
}
