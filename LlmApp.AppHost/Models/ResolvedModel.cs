using LlmApp.Models;
namespace LlmApp.AppHost.Models;

/// <summary>A model file on disk, ready to load, and the id clients will use for it.</summary>
public sealed record ResolvedModel(string Path, string ServedName, CatalogEntry? Entry = null);
