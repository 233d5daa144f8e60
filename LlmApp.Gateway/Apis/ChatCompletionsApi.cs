using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Apis;

public static class ChatCompletionsApi
{
    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletion);
        return app;
    }

    public static async Task<IResult> CreateChatCompletion(
        HttpContext context,
        IChatClient chatClient,
        AdmissionControl admission,
        ShutdownDrain drain,
        TimeProvider time,
        IOptions<BackendOptions> backend,
        IOptions<ResilienceOptions> resilience,
        IOptions<StreamingOptions> streaming,
        GatewayMetrics metrics,
        IOptions<TelemetryOptions> telemetryOptions,
        ILogger<ChatCompletionRequest> logger)
    {
        var requestAborted = context.RequestAborted;
        var startedAt = time.GetUtcNow();
        var (request, parseError) = await ReadRequestAsync(context.Request, requestAborted);
        if (parseError is not null)
        {
            return parseError;
        }

        var servedModel = backend.Value.Model;
        if (request!.Model is { Length: > 0 } model && model != servedModel)
        {
            return OpenAIErrors.ModelNotFound(model);
        }

        if (!ChatRequestMapper.TryMap(request, backend.Value.ContextLength, out var mapped, out var error))
        {
            return OpenAIErrors.InvalidRequest(error.Message, error.Param, error.Code);
        }

        var telemetry = new RequestTelemetry(metrics, logger, context.TraceIdentifier, servedModel, mapped.Stream,
            telemetryOptions.Value.LogContent ? mapped.Messages : null);
        var maxTokens = mapped.Options.MaxOutputTokens;
        var (outcome, lease) = await admission.AdmitAsync(resilience.Value.TotalTimeout(maxTokens), requestAborted);
        if (outcome == AdmissionControl.Outcome.ClientLeft)
        {
            telemetry.Finish(RequestTelemetry.ClientClosedRequest);
            return Results.Empty;
        }

        if (outcome != AdmissionControl.Outcome.Admitted)
        {
            var refusal = Refusal(outcome);
            telemetry.OnRejected(outcome.ToString(), refusal.StatusCode ?? StatusCodes.Status429TooManyRequests);
            return refusal;
        }

        using (lease)
        {
            telemetry.OnAdmitted();

            // The deadline counts from arrival: time spent in the queue is part of it.
            using var watchdog = new GenerationWatchdog(resilience.Value, maxTokens, startedAt, time, requestAborted, drain.Expired);
            try
            {
                return mapped.Stream
                    ? await StreamAsync(context, chatClient, mapped, servedModel, watchdog, telemetry, streaming.Value, logger)
                    : await CompleteAsync(chatClient, mapped, servedModel, watchdog, telemetry, logger, requestAborted);
            }
            finally
            {
                telemetry.EnsureFinished();
            }
        }
    }

    private static async Task<IResult> CompleteAsync(
        IChatClient chatClient, MappedChatRequest mapped, string servedModel, GenerationWatchdog watchdog,
        RequestTelemetry telemetry, ILogger logger, CancellationToken requestAborted)
    {
        try
        {
            // Streamed from the backend even when the client wants one answer, so that the first-token and idle
            // timeouts apply here too and a stalled backend is noticed in seconds, not at the total deadline.
            var updates = new List<ChatResponseUpdate>();
            await foreach (var update in chatClient.GetStreamingResponseAsync(mapped.Messages, mapped.Options, watchdog.Token))
            {
                watchdog.OnToken();
                telemetry.OnUpdate(update);
                updates.Add(update);
            }

            var response = updates.ToChatResponse();
            telemetry.OnResponse(response);
            telemetry.Finish(StatusCodes.Status200OK);
            return TypedResults.Json(ChatResponseMapper.ToCompletion(response, servedModel), OpenAIJsonContext.Default.ChatCompletionResponse);
        }
        catch (Exception ex) when (!requestAborted.IsCancellationRequested &&
                                   BackendFailures.TryTranslate(ex, watchdog.Reason(requestAborted), out var result))
        {
            var reason = watchdog.Reason(requestAborted);
            BackendFailures.Log(logger, ex, reason);
            telemetry.Finish((result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status502BadGateway, BackendFailures.ErrorType(ex, reason));
            return result;
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            telemetry.Finish(RequestTelemetry.ClientClosedRequest);
            return Results.Empty;
        }
    }

    private static async Task<IResult> StreamAsync(
        HttpContext context, IChatClient chatClient, MappedChatRequest mapped, string servedModel, GenerationWatchdog watchdog,
        RequestTelemetry telemetry, StreamingOptions streaming, ILogger logger)
    {
        var requestAborted = context.RequestAborted;
        using var writer = new SseWriter(context.Response);
        var streamer = new ChatCompletionStreamer(writer, servedModel, mapped.IncludeUsage, streaming.KeepAliveInterval, update =>
        {
            watchdog.OnToken();
            telemetry.OnUpdate(update);
        });
        try
        {
            await streamer.StreamAsync(chatClient.GetStreamingResponseAsync(mapped.Messages, mapped.Options, watchdog.Token), watchdog.Token);
            telemetry.Finish(StatusCodes.Status200OK);
            return Results.Empty;
        }
        catch (Exception ex) when (!requestAborted.IsCancellationRequested && !writer.Started &&
                                   BackendFailures.TryTranslate(ex, watchdog.Reason(requestAborted), out var result))
        {
            // Nothing sent yet: the client gets a proper status code.
            var reason = watchdog.Reason(requestAborted);
            BackendFailures.Log(logger, ex, reason);
            telemetry.Finish((result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status502BadGateway, BackendFailures.ErrorType(ex, reason));
            return result;
        }
        catch (Exception ex) when (!requestAborted.IsCancellationRequested && writer.Started)
        {
            // Past the first byte the status is sent: the error goes to the client as the stream's last event.
            var reason = watchdog.Reason(requestAborted);
            BackendFailures.Log(logger, ex, reason);
            await writer.WriteAsync(BackendFailures.Describe(ex, reason), OpenAIJsonContext.Default.OpenAIErrorResponse, CancellationToken.None);
            telemetry.Finish(StatusCodes.Status200OK, BackendFailures.ErrorType(ex, reason));
            return Results.Empty;
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            telemetry.Finish(RequestTelemetry.ClientClosedRequest);
            return Results.Empty;
        }
    }

    private static RetryAfterResult Refusal(AdmissionControl.Outcome outcome) => outcome switch
    {
        AdmissionControl.Outcome.ShuttingDown =>
            new RetryAfterResult(OpenAIErrors.BackendUnavailable("The server is shutting down; try again."), TimeSpan.FromSeconds(5)),
        AdmissionControl.Outcome.QueueTimeout =>
            new RetryAfterResult(OpenAIErrors.Overloaded("The request waited for a free model slot past its deadline."), TimeSpan.FromSeconds(1)),
        _ => new RetryAfterResult(OpenAIErrors.Overloaded("All model slots are busy and the queue is full; retry shortly."), TimeSpan.FromSeconds(1)),
    };

    private static async Task<(ChatCompletionRequest? Request, IResult? Error)> ReadRequestAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, OpenAIJsonContext.Default.ChatCompletionRequest, cancellationToken);
            return body is null
                ? (null, OpenAIErrors.InvalidRequest("The request body must be a JSON object."))
                : (body, null);
        }
        catch (JsonException ex)
        {
            // System.Text.Json names where it stopped ("$.messages[0].role"); OpenAI names the parameter ("messages[0].role").
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            var message = param is null
                ? "The request body is not valid JSON, or not a JSON object."
                : $"'{param}' has the wrong type or is not valid JSON.";
            return (null, OpenAIErrors.InvalidRequest(message, param));
        }
    }
}
