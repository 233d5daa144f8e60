using LlmApp.ApiKeys;
namespace LlmApp.Gateway.Authentication;

/// <summary>Why a request was refused: a fixed reason for the log, and the message the client reads. Neither holds what was presented.</summary>
internal sealed record ApiKeyRefusal(string Reason, string Message);

/// <summary>Reads a request's key the way every OpenAI SDK sends it, <c>Authorization: Bearer &lt;key&gt;</c>, and nowhere else.</summary>
internal static class ApiKeyCheck
{
    private const string BearerPrefix = "Bearer ";

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
            return Refuse("missing", Missing);
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

        return store.Find(presented) switch
        {
            null => Refuse("unknown_key", Incorrect),
            { Enabled: false } => Refuse("disabled_key", Incorrect),
            var key => (key, null),
        };
    }

    private static (StoredKey?, ApiKeyRefusal?) Refuse(string reason, string message) => (null, new ApiKeyRefusal(reason, message));
}
