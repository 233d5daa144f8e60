using System.Text.Json;

namespace LlmApp.Gateway.Failures;

/// <summary>
/// Endpoint metadata of the Anthropic Messages API: a failure on such an endpoint, whatever layer refuses it (the key,
/// a limit, validation, the pipeline), is written in Anthropic's shape, <c>{"type":"error","error":{"type","message"}}</c>,
/// as is any failure of a request that carries <c>anthropic-version</c>, as Anthropic's clients send it.
/// </summary>
public sealed class AnthropicErrorShape
{
    public static readonly AnthropicErrorShape Instance = new();

    private AnthropicErrorShape()
    {
    }
}

/// <summary>Anthropic's error object: its <c>type</c> for an HTTP status, as Anthropic's API and SDKs name them.</summary>
public static class AnthropicErrors
{
    public static string TypeOf(int status) => status switch
    {
        StatusCodes.Status400BadRequest or StatusCodes.Status422UnprocessableEntity => "invalid_request_error",
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status408RequestTimeout or StatusCodes.Status504GatewayTimeout => "timeout_error",
        StatusCodes.Status503ServiceUnavailable => "overloaded_error",
        _ => "api_error",
    };

    /// <summary>Writes <c>{"type":"error","error":{"type":...,"message":...}}</c>.</summary>
    public static void Write(Utf8JsonWriter json, int status, string message)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteString("type"u8, "error"u8);
        json.WriteStartObject("error"u8);
        json.WriteString("type"u8, TypeOf(status));
        json.WriteString("message"u8, message);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
