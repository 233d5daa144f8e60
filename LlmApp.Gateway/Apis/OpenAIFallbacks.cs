using Microsoft.AspNetCore.Diagnostics;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Failures;

namespace LlmApp.Gateway.Apis;

/// <summary>Unknown routes and unhandled failures still answer in OpenAI's error shape, never with a stack trace.</summary>
public static class OpenAIFallbacks
{
    public static WebApplication UseOpenAIErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler(errorApp => errorApp.Run(context =>
        {
            // A request Kestrel itself refused while it was read (too large, too slow, malformed) is the client's
            // error, with Kestrel's status; anything else is ours.
            var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException badRequest
                ? new GatewayFailure(badRequest.StatusCode, new(badRequest.Message, "invalid_request_error", null, "bad_request"), "bad_request")
                : GatewayFailure.ServerError("server_error");
            return failure.ToResult().ExecuteAsync(context);
        }));
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            // A path under /v1 that is not there is told only to a caller with a key: to the rest it is 401, as every
            // path under /v1 is, so that the API's routes cannot be mapped without one.
            if (http.Request.Path.StartsWithSegments("/v1") && http.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed &&
                http.RequestServices.GetRequiredService<ApiKeyStore>() is { IsOpen: false } store &&
                ApiKeyFilter.Check(http, store, http.RequestServices.GetRequiredService<FailedAuthentications>(),
                    http.RequestServices.GetRequiredService<ILogger<ApiKeyFilter>>()) is { } refusal)
            {
                return refusal.ToResult().ExecuteAsync(http);
            }

            return http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => GatewayFailure.NotFound(http.Request.Path).ToResult().ExecuteAsync(http),
                StatusCodes.Status405MethodNotAllowed => GatewayFailure.MethodNotAllowed(http.Request.Method, http.Request.Path).ToResult().ExecuteAsync(http),
                _ => Task.CompletedTask,
            };
        });
        return app;
    }
}
