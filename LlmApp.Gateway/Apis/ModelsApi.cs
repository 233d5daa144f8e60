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

    public static IResult ListModels(IOptions<BackendOptions> backend) =>
        TypedResults.Json(new ModelList([Card(backend.Value.Model)]), OpenAIJsonContext.Default.ModelList);

    public static IResult RetrieveModel(string model, IOptions<BackendOptions> backend) =>
        model == backend.Value.Model
            ? TypedResults.Json(Card(model), OpenAIJsonContext.Default.ModelCard)
            : GatewayFailure.ModelNotFound(model).ToResult();

    private static ModelCard Card(string model) => new(model, s_startedAt, "llmapp");
}
