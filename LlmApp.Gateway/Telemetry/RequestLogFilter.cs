using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Telemetry;

/// <summary>
/// Writes exactly one line for every request to the endpoint it filters, whatever became of it (served, refused by
/// validation or admission, failed, or abandoned by its client):
/// <c>chat.completion &lt;id&gt; model=... status=... stream=... backend=... ttft_ms=... tokens_in=... tokens_cached=... tokens_out=... duration_ms=... error=... key=...</c>,
/// where <c>key</c> is the name of the request's API key (<c>-</c> while <c>/v1</c> is open), never the key.
/// It starts the request's <see cref="CallRecord"/>, which the pipeline's telemetry layer fills in, and reads the model
/// and whether it streamed from the <see cref="CallContext"/> its endpoint made. The line is written once the
/// response is complete (<see cref="HttpResponse.OnCompleted(Func{Task})"/>): formatting it and waking the logger's
/// thread is then off the path of the answer, and <c>duration_ms</c> covers the whole response, its writing included.
/// </summary>
internal sealed partial class RequestLogFilter(string operation, TimeProvider time, ILogger logger) : IEndpointFilter
{
    public const string Category = "LlmApp.Gateway.Requests";

    /// <summary>The status logged for a client that left before its answer was complete (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var call = new CallRecord(http.TraceIdentifier, time.GetTimestamp());
        http.Features.Set(call);
        // As OpenAI does: the SDKs show it (the Python SDK's _request_id), and it finds the request's log line.
        http.Response.Headers["x-request-id"] = call.RequestId;
        if (http.GetEndpoint()?.Metadata.GetMetadata<AnthropicErrorShape>() is not null)
        {
            // And as Anthropic does, for its SDKs (the request id they attach to a message or an error).
            http.Response.Headers["request-id"] = call.RequestId;
        }

        object? result = null;
        try
        {
            result = await next(context);
            return result;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            call.Status = ClientClosedRequest;
            return Results.Empty;
        }
        catch
        {
            call.Status = StatusCodes.Status500InternalServerError;
            call.Error ??= "server_error";
            throw;
        }
        finally
        {
            http.Response.OnCompleted(static state =>
            {
                var (filter, call, result, http) = ((RequestLogFilter, CallRecord, object?, HttpContext))state;
                filter.Log(call, http.Features.Get<CallContext>(), result, http.Features.Get<ApiKeyIdentity>()?.Name ?? ApiKeyIdentity.OpenName);
                return Task.CompletedTask;
            }, (this, call, result, http));
        }
    }

    private void Log(CallRecord call, CallContext? context, object? result, string keyName)
    {
        var duration = time.GetElapsedTime(call.ArrivalTimestamp);
        var status = call.Status ?? (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var error = call.Error ?? (result as GatewayFailure.FailureResult)?.Failure.ErrorType ?? "none";
        LogRequest(logger, operation, call.RequestId, context?.Model ?? "-", status, context?.Stream ?? false, call.Backend ?? "-", call.Resumes, call.ResumePromptTokens,
            call.TimeToFirstToken?.TotalMilliseconds,
            call.Usage?.InputTokenCount, call.Usage?.CachedInputTokenCount, call.Usage?.OutputTokenCount, duration.TotalMilliseconds, error, keyName);
    }

    [LoggerMessage(EventId = 1, EventName = "Request", Level = LogLevel.Information,
        Message = "{Operation} {RequestId} model={Model} status={Status} stream={Stream} backend={Backend} resumed={Resumed} resume_tokens_in={ResumeInputTokens} ttft_ms={TimeToFirstTokenMs} " +
                  "tokens_in={InputTokens} tokens_cached={CachedTokens} tokens_out={OutputTokens} duration_ms={DurationMs} error={ErrorType} key={KeyName}")]
    private static partial void LogRequest(ILogger logger, string operation, string requestId, string model, int status, bool stream, string backend,
        int resumed, long resumeInputTokens, double? timeToFirstTokenMs, long? inputTokens, long? cachedTokens, long? outputTokens, double durationMs, string errorType, string keyName);
}
