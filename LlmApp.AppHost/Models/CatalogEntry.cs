namespace LlmApp.AppHost.Models;

/// <summary>
/// One model of models/catalog.json: where to get it and how to know it arrived intact. An embedding model also says
/// how llama-server pools its token vectors and whether it allows shortened (Matryoshka) vectors.
/// </summary>
public sealed record CatalogEntry(
    string Name,
    string Repo,
    string Revision,
    string File,
    long Size,
    string Sha256,
    string License,
    string Description,
    string Kind = CatalogEntry.ChatKind,
    string? Pooling = null,
    bool Matryoshka = false)
{
    public const string ChatKind = "chat";
    public const string EmbeddingKind = "embedding";
}
