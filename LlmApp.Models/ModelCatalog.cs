using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Models;

/// <summary>The models LlmApp knows how to download, read from models/catalog.json (copied next to the AppHost).</summary>
public sealed class ModelCatalog(IReadOnlyList<CatalogEntry> models)
{
    public IReadOnlyList<CatalogEntry> Models { get; } = models;

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "models", "catalog.json");

    public CatalogEntry? Find(string name) =>
        Models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    public static ModelCatalog Load(string? path = null)
    {
        path ??= DefaultPath;
        try
        {
            using var stream = File.OpenRead(path);
            var document = JsonSerializer.Deserialize(stream, CatalogJsonContext.Default.CatalogDocument);
            return new ModelCatalog(document?.Models ?? []);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new SetupException($"The model catalog {path} could not be read: {ex.Message}", ex);
        }
    }
}

internal sealed record CatalogDocument(IReadOnlyList<CatalogEntry> Models);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(CatalogDocument))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
