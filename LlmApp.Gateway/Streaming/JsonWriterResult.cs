using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// A JSON answer written straight into the response's pipe with <see cref="Utf8JsonWriter"/> by <c>write</c>, from
/// <c>state</c>: the APIs whose answers are not a serialized type (Responses, Messages, Anthropic's errors). Non-ASCII
/// text goes out as it came, as OpenAI and Anthropic send it.
/// </summary>
internal sealed class JsonWriterResult<TState>(TState state, Action<Utf8JsonWriter, TState> write, int statusCode = StatusCodes.Status200OK) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(response.BodyWriter, JsonWriterResult.Options))
        {
            write(json, state);
        }

        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}

internal static class JsonWriterResult
{
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Of<TState>(TState state, Action<Utf8JsonWriter, TState> write, int statusCode = StatusCodes.Status200OK) =>
        new JsonWriterResult<TState>(state, write, statusCode);
}
