namespace LlmApp.Models;

/// <summary>
/// One model of models/catalog.json: where to get it and how to know it arrived intact. An embedding model also says
/// how llama-server pools its token vectors and whether it allows shortened (Matryoshka) vectors. The shape lets the
/// memory check size a model that is not downloaded yet (a compose file is written without the file). A model of
/// random weights (the tests' model) runs like any other but answers gibberish, so it is never suggested instead of one.
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
    bool Matryoshka = false,
    ModelShape? Shape = null,
    bool RandomWeights = false)
{
    public const string ChatKind = "chat";
    public const string EmbeddingKind = "embedding";
}
