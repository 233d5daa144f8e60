using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Apis;

public static class ModelsApi
{
    // Fixed at start-up: OpenAI reports when a model was created, and the served alias does not change while we run.
    private static readonly long s_startedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static RouteGroupBuilder MapModelsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/models", ListModels);
        api.MapGet("/models/{model}", RetrieveModel);
        return api;
    }

    /// <summary>The chat model, and the embedding model when one is served.</summary>
    public static IResult ListModels(IOptions<BackendOptions> backend, IOptions<EmbeddingsOptions> embeddings) =>
        TypedResults.Json(new ModelList([.. Served(backend.Value, embeddings.Value).Select(Card)]), OpenAIJsonContext.Wire.ModelList);

    public static IResult RetrieveModel(string model, IOptions<BackendOptions> backend, IOptions<EmbeddingsOptions> embeddings) =>
        Served(backend.Value, embeddings.Value).Contains(model)
            ? TypedResults.Json(Card(model), OpenAIJsonContext.Wire.ModelCard)
            : GatewayFailure.ModelNotFound(model).ToResult();

    private static string[] Served(BackendOptions backend, EmbeddingsOptions embeddings) =>
        embeddings.IsEnabled ? [backend.Model, embeddings.Model] : [backend.Model];

    private static ModelCard Card(string model) => new(model, s_startedAt, "llmapp");
}
