using LlmApp.Gateway.Failures;

namespace LlmApp.Gateway.Authentication;

/// <summary>
/// Lets a request into <c>/v1</c> only with a known, enabled key, and answers any other with 401 in OpenAI's error
/// shape; an address with too many refusals in the last minute gets 429 first. The key's name goes on the request
/// (<see cref="ApiKeyIdentity"/>) for the request log; the key goes nowhere.
/// </summary>
internal sealed partial class ApiKeyFilter(ApiKeyStore store, FailedAuthentications failures, ILogger<ApiKeyFilter> logger) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (store.IsOpen)
        {
            http.Features.Set(ApiKeyIdentity.Open);
            return next(context);
        }

        return Check(http, store, failures, logger) is { } refusal
            ? ValueTask.FromResult<object?>(refusal.ToResult())
            : next(context);
    }

    /// <summary>
    /// The refusal of <paramref name="http"/>'s key (429 for an address over its failures, else 401), or null when the
    /// key is good, with its identity set on the request. Also used for paths under <c>/v1</c> that do not exist, so
    /// that what is there is not told to a caller without a key.
    /// </summary>
    public static GatewayFailure? Check(HttpContext http, ApiKeyStore store, FailedAuthentications failures, ILogger logger)
    {
        var address = http.Connection.RemoteIpAddress;
        if (failures.Blocked(address) is { } wait)
        {
            return GatewayFailure.RateLimited(
                $"Too many requests with a wrong or missing API key from this address; try again in {Quotas.RateLimitHeaders.Duration(wait)}.",
                "requests", wait);
        }

        var (key, refusal) = ApiKeyCheck.Authenticate(http.Request, store);
        if (refusal is not null)
        {
            failures.Add(address);
            // Escaped as in a URL: a decoded path may hold line breaks, which would forge log lines.
            LogRefused(logger, http.Request.Path.ToUriComponent(), refusal.Reason, address?.ToString() ?? "-");
            return GatewayFailure.Unauthorized(refusal.Message);
        }

        http.Features.Set(new ApiKeyIdentity(key!.Name, key.Limits));
        return null;
    }

    [LoggerMessage(EventId = 1, EventName = "ApiKeyRefused", Level = LogLevel.Warning,
        Message = "Refused {Path} with 401: reason={Reason} remote={RemoteAddress}")]
    private static partial void LogRefused(ILogger logger, string path, string reason, string remoteAddress);
}
