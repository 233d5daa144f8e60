using LlmApp.Gateway.OpenAI;

namespace LlmApp.Gateway.Apis;

/// <summary>Unknown routes and unhandled failures still answer in OpenAI's error shape, never with a stack trace.</summary>
public static class OpenAIFallbacks
{
    public static WebApplication UseOpenAIErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler(errorApp => errorApp.Run(context =>
            OpenAIErrors.ServerError().ExecuteAsync(context)));
        app.UseStatusCodePages(context =>
            context.HttpContext.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => OpenAIErrors.NotFound(context.HttpContext.Request.Path).ExecuteAsync(context.HttpContext),
                StatusCodes.Status405MethodNotAllowed => OpenAIErrors.Create(StatusCodes.Status405MethodNotAllowed,
                    $"Method {context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}.",
                    "invalid_request_error", null, "method_not_allowed").ExecuteAsync(context.HttpContext),
                _ => Task.CompletedTask,
            });
        return app;
    }
}
