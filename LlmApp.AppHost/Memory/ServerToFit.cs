using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.AppHost.Memory;

/// <summary>A llama-server about to start: the model's name, file size and shape, and the settings it runs with.</summary>
public sealed record ServerToFit(string Name, long FileBytes, ModelShape Shape, ServerLoad Load)
{
    /// <summary>A catalog model, sized without its file (the catalog has its size and shape).</summary>
    public static ServerToFit FromCatalog(CatalogEntry entry, ServerLoad load)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var shape = entry.Shape
            ?? throw new SetupException($"models/catalog.json gives {entry.Name} no shape, so its memory cannot be estimated; Llm:MemoryCheck false skips the check.");
        return new(entry.Name, entry.Size, shape, load);
    }

    /// <summary>A local .gguf file, sized from its length and its header.</summary>
    public static ServerToFit FromFile(string path, ServerLoad load)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new(Path.GetFileName(path), new FileInfo(path).Length, GgufHeader.ReadShape(path), load);
    }

    /// <summary>
    /// The server a model setting (<c>Llm:Model</c>, <c>Llm:EmbeddingModel</c>) asks for: a catalog name of
    /// <paramref name="kind"/>, or an existing .gguf file. Null for anything else (unset, unknown, the wrong kind, a
    /// missing file): ModelResolver reports those, naming the setting.
    /// </summary>
    public static ServerToFit? ForSetting(string? value, string kind, ModelCatalog catalog, ServerLoad load)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (catalog.Find(value.Trim()) is { } entry)
        {
            return entry.Kind == kind ? FromCatalog(entry, load) : null;
        }

        var path = UserPath.Resolve(value.Trim());
        return File.Exists(path) ? FromFile(path, load) : null;
    }
}
