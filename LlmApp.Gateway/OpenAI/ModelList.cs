using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>The body of <c>GET /v1/models</c>.</summary>
public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    [JsonPropertyName("object")]
    public string ObjectType => "list";
}

public sealed record ModelCard(string Id, long Created, string OwnedBy)
{
    [JsonPropertyName("object")]
    public string ObjectType => "model";
}
