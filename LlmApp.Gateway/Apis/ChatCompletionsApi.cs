using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Streaming;
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
        IOptions<BackendOptions> backend,
        IOptions<StreamingOptions> streaming,
        ILogger<ChatCompletionRequest> logger)
    {
        var cancellationToken = context.RequestAborted;
        var (request, parseError) = await ReadRequestAsync(context.Request, cancellationToken);
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

        try
        {
            if (mapped.Stream)
            {
                using var writer = new SseWriter(context.Response);
                var streamer = new ChatCompletionStreamer(writer, servedModel, mapped.IncludeUsage, streaming.Value.KeepAliveInterval);
                try
                {
                    await streamer.StreamAsync(chatClient.GetStreamingResponseAsync(mapped.Messages, mapped.Options, cancellationToken), cancellationToken);
                }
                catch (Exception ex) when (writer.Started && !cancellationToken.IsCancellationRequested && BackendFailures.TryDescribe(ex, out var failure))
                {
                    // Past the first byte the status is sent: the error goes to the client as the stream's last event.
                    BackendFailures.Log(logger, ex);
                    await writer.WriteAsync(failure, OpenAIJsonContext.Default.OpenAIErrorResponse, CancellationToken.None);
                }

                return Results.Empty;
            }

            var response = await chatClient.GetResponseAsync(mapped.Messages, mapped.Options, cancellationToken);
            return TypedResults.Json(ChatResponseMapper.ToCompletion(response, servedModel), OpenAIJsonContext.Default.ChatCompletionResponse);
        }
        catch (Exception ex) when (BackendFailures.TryTranslate(ex, cancellationToken, out var result))
        {
            BackendFailures.Log(logger, ex);
            return result;
        }
    }

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
