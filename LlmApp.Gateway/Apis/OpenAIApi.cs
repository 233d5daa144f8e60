using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Authentication;

namespace LlmApp.Gateway.Apis;

public static class OpenAIApi
{
    /// <summary>
    /// The OpenAI API under <c>/v1</c>: one group, behind API keys once any is configured. The group's filter runs
    /// before each endpoint's, so a refused request is answered before its body is read.
    /// </summary>
    public static RouteGroupBuilder MapOpenAIApi(this IEndpointRouteBuilder app)
    {
        // Made now rather than on the first request, so that its gauges (queue length, busy slots) are on /metrics from the start.
        _ = app.ServiceProvider.GetRequiredService<AdmissionControl>();
        var api = app.MapGroup("/v1").RequireApiKeys();
        api.MapModelsApi();
        api.MapChatCompletionsApi();
        api.MapMessagesApi();
        api.MapResponsesApi();
        api.MapEmbeddingsApi();
        return api;
    }
}
