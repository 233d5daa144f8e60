using System.ClientModel.Primitives;
using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI.Chat;

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
        ILogger<ChatCompletionRequest> logger)
    {
        var cancellationToken = context.RequestAborted;

        ChatCompletionRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(
                context.Request.Body, OpenAIJsonContext.Default.ChatCompletionRequest, cancellationToken);
        }
        catch (JsonException ex)
        {
            return OpenAIErrors.InvalidRequest($"The request body is not valid JSON for this endpoint: {ex.Message}");
        }

        if (request is null)
        {
            return OpenAIErrors.InvalidRequest("The request body must be a JSON object.");
        }

        var servedModel = backend.Value.Model;
        if (request.Model is null)
        {
            return OpenAIErrors.InvalidRequest("'model' is a required property.", "model");
        }

        if (request.Model != servedModel)
        {
            return OpenAIErrors.ModelNotFound(request.Model);
        }

        if (!ChatRequestMapper.TryMap(request, out var mapped, out var error))
        {
            return OpenAIErrors.InvalidRequest(error.Message, error.Param);
        }

        ChatResponse response;
        try
        {
            response = await chatClient.GetResponseAsync(mapped.Messages, mapped.Options, cancellationToken);
        }
        catch (Exception ex) when (BackendFailures.TryTranslate(ex, cancellationToken, out var result))
        {
            BackendFailures.Log(logger, ex);
            return result;
        }

        // Clients see the alias they asked for, whatever the backend reports (a file path, for llama-server without --alias).
        response.ModelId = servedModel;
        var completion = response.AsOpenAIChatCompletion();
        return Results.Bytes(
            ModelReaderWriter.Write(completion, ModelReaderWriterOptions.Json).ToMemory(),
            "application/json");
    }
}
