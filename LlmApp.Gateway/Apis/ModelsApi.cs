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

    /// <summary>
    /// The chat model, and the embedding model when one is served: in OpenAI's list shape, or in Anthropic's when the
    /// request carries <c>anthropic-version</c>, as every Anthropic client sends it (the chat model only: Anthropic's
    /// API has no embeddings).
    /// </summary>
    public static IResult ListModels(HttpRequest request, IOptions<BackendOptions> backend, IOptions<EmbeddingsOptions> embeddings) =>
        IsAnthropic(request)
            ? new AnthropicModels([backend.Value.Model], List: true)
            : TypedResults.Json(new ModelList([.. Served(backend.Value, embeddings.Value).Select(Card)]), OpenAIJsonContext.Wire.ModelList);

    public static IResult RetrieveModel(string model, HttpRequest request, IOptions<BackendOptions> backend, IOptions<EmbeddingsOptions> embeddings)
    {
        if (!Served(backend.Value, embeddings.Value).Contains(model))
        {
            return GatewayFailure.ModelNotFound(model).ToResult();
        }

        return IsAnthropic(request) ? new AnthropicModels([model], List: false) : TypedResults.Json(Card(model), OpenAIJsonContext.Wire.ModelCard);
    }

    private static bool IsAnthropic(HttpRequest request) => request.Headers.ContainsKey("anthropic-version");

    private static string[] Served(BackendOptions backend, EmbeddingsOptions embeddings) =>
        embeddings.IsEnabled ? [backend.Model, embeddings.Model] : [backend.Model];

    private static ModelCard Card(string model) => new(model, s_startedAt, "llmapp");

    /// <summary>Anthropic's model objects (<c>type</c>, <c>id</c>, <c>display_name</c>, <c>created_at</c>), as a page (<c>data</c>, <c>has_more</c>, <c>first_id</c>, <c>last_id</c>) or one.</summary>
    private sealed class AnthropicModels(string[] models, bool List) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json";
            var created = DateTimeOffset.FromUnixTimeSeconds(s_startedAt).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            await using (var json = new System.Text.Json.Utf8JsonWriter(httpContext.Response.BodyWriter))
            {
                if (List)
                {
                    json.WriteStartObject();
                    json.WriteStartArray("data"u8);
                }

                foreach (var model in models)
                {
                    json.WriteStartObject();
                    json.WriteString("type"u8, "model"u8);
                    json.WriteString("id"u8, model);
                    json.WriteString("display_name"u8, model);
                    json.WriteString("created_at"u8, created);
                    json.WriteEndObject();
                }

                if (List)
                {
                    json.WriteEndArray();
                    json.WriteBoolean("has_more"u8, false);
                    json.WriteString("first_id"u8, models[0]);
                    json.WriteString("last_id"u8, models[^1]);
                    json.WriteEndObject();
                }
            }

            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
