using LlmApp.ApiKeys;
namespace LlmApp.Gateway.Authentication;

/// <summary>Why a request was refused: a fixed reason for the log, and the message the client reads. Neither holds what was presented.</summary>
internal sealed record ApiKeyRefusal(string Reason, string Message);

/// <summary>
/// Reads a request's key the way every OpenAI SDK sends it, <c>Authorization: Bearer &lt;key&gt;</c>, or, without that
/// header, as Anthropic's send it, <c>x-api-key: &lt;key&gt;</c>; nowhere else.
/// </summary>
internal static class ApiKeyCheck
{
    private const string BearerPrefix = "Bearer ";
    private const string AnthropicKeyHeader = "x-api-key";

    // OpenAI's own wording, so a client's error handling and its users recognise it.
    private const string Missing = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    private const string Incorrect = "Incorrect API key provided.";

    // Query parameters some clients use for keys: a URL lands in proxy logs, browser history and Referer headers.
    private static readonly string[] s_queryKeyNames = ["api_key", "key"];

    public static (StoredKey? Key, ApiKeyRefusal? Refusal) Authenticate(HttpRequest request, ApiKeyStore store)
    {
        if (s_queryKeyNames.Any(request.Query.ContainsKey))
        {
            return Refuse("key_in_query", "API keys are not accepted in the URL; send the key in the Authorization header (Authorization: Bearer YOUR_KEY).");
        }

        var headers = request.Headers.Authorization;
        if (headers.Count == 0)
        {
            // Anthropic's clients send the key as x-api-key: the same keys, read from there when there is no Authorization.
            return request.Headers[AnthropicKeyHeader] switch
            {
                { Count: 0 } => Refuse("missing", Missing),
                { Count: > 1 } => Refuse("several_headers", "Send one x-api-key header."),
                var anthropic when (anthropic[0] ?? "").Trim() is { Length: > 0 } sent => Find(store, sent),
                _ => Refuse("empty_x_api_key", Missing),
            };
        }

        if (headers.Count > 1)
        {
            return Refuse("several_headers", "Send one Authorization header, Authorization: Bearer YOUR_KEY.");
        }

        var value = headers[0] ?? "";
        if (!value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return value.Trim().Equals("Bearer", StringComparison.OrdinalIgnoreCase)
                ? Refuse("empty_bearer", Missing)
                : Refuse("not_bearer", "The Authorization header must use Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }

        var presented = value[BearerPrefix.Length..].Trim();
        if (presented.Length == 0)
        {
            return Refuse("empty_bearer", Missing);
        }

        return Find(store, presented);
    }

    private static (StoredKey? Key, ApiKeyRefusal? Refusal) Find(ApiKeyStore store, string presented) => store.Find(presented) switch
    {
        null => Refuse("unknown_key", Incorrect),
        { Enabled: false } => Refuse("disabled_key", Incorrect),
        var key => (key, null),
    };

    private static (StoredKey?, ApiKeyRefusal?) Refuse(string reason, string message) => (null, new ApiKeyRefusal(reason, message));
}
