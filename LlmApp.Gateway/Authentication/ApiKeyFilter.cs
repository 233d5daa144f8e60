using LlmApp.Gateway.Failures;

namespace LlmApp.Gateway.Authentication;

/// <summary>
/// Lets a request into <c>/v1</c> only with a known, enabled key, and answers any other with 401 in OpenAI's error
/// shape. The key's name goes on the request (<see cref="ApiKeyIdentity"/>) for the request log; the key goes nowhere.
/// </summary>
internal sealed partial class ApiKeyFilter(ApiKeyStore store, ILogger<ApiKeyFilter> logger) : IEndpointFilter
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

        var (key, refusal) = ApiKeyCheck.Authenticate(http.Request, store);
        if (refusal is not null)
        {
            LogRefused(logger, http.Request.Path, refusal.Reason, http.Connection.RemoteIpAddress?.ToString() ?? "-");
            return ValueTask.FromResult<object?>(GatewayFailure.Unauthorized(refusal.Message).ToResult());
        }

        http.Features.Set(new ApiKeyIdentity(key!.Name, key.Limits));
        return next(context);
    }

    [LoggerMessage(EventId = 1, EventName = "ApiKeyRefused", Level = LogLevel.Warning,
        Message = "Refused {Path} with 401: reason={Reason} remote={RemoteAddress}")]
    private static partial void LogRefused(ILogger logger, string path, string reason, string remoteAddress);
}
