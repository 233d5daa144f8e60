namespace LlmApp.Gateway.Apis;

public static class OpenAIApi
{
    /// <summary>The OpenAI API under <c>/v1</c>: one group, where authentication will hang.</summary>
    public static RouteGroupBuilder MapOpenAIApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1");
        api.MapModelsApi();
        api.MapChatCompletionsApi();
        api.MapEmbeddingsApi();
        return api;
    }
}
