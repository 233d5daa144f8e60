using System.Net.Http.Headers;
using System.Text.Json;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Sends one JSON request to a backend through its retry and circuit-breaker pipeline, with its key, and turns an
/// error answer into a <see cref="BackendFailureException"/> carrying the backend's own message.
/// </summary>
internal static class BackendSender
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    // Enough of an error body for its message; a backend that sends more is not saying anything more useful.
    private const int MaxErrorBodyBytes = 16 * 1024;

    public static async Task<HttpResponseMessage> SendAsync(
        ModelBackend backend, HttpMessageInvoker http, Uri uri, byte[] body, bool closeConnection, CancellationToken cancellationToken)
    {
        var response = await backend.SendPipeline.ExecuteAsync(
            static async (state, token) =>
            {
                // A request message is sent once: each attempt gets its own.
                using var request = new HttpRequestMessage(HttpMethod.Post, state.Uri)
                {
                    Content = new ByteArrayContent(state.Body) { Headers = { ContentType = s_json } },
                    Headers = { ConnectionClose = state.CloseConnection },
                };
                if (state.Backend.Options.ApiKey is { Length: > 0 } key)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                }

                return await state.Http.SendAsync(request, token);
            },
            (Backend: backend, Http: http, Uri: uri, Body: body, CloseConnection: closeConnection),
            cancellationToken);

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var (message, type, code) = await ReadErrorAsync(response, cancellationToken);
            throw new BackendFailureException(BackendFault.Status, message, (int)response.StatusCode, type, code);
        }
    }

    /// <summary>
    /// The message, type and code of an error body: <c>{"error":{"message":...}}</c> (OpenAI, llama-server, newer vLLM),
    /// or older vLLM's <c>{"object":"error","message":...,"code":400}</c>, whose numeric code says nothing new.
    /// </summary>
    private static async Task<(string Message, string? Type, string? Code)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var fallback = $"The model backend answered {(int)response.StatusCode}.";
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBodyBytes];
            var length = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
            var root = document.RootElement;
            var error = root.TryGetProperty("error", out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : root;
            return (Text(error, "message") ?? fallback, Text(error, "type"), Text(error, "code"));
        }
        catch (JsonException)
        {
            return (fallback, null, null);
        }

        static string? Text(JsonElement error, string name) =>
            error.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
    }
}
