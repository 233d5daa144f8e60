using LlmApp.AppHost.Models;
using LlmApp.Models;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// The model a compose service serves, decided at generation without downloading anything: a catalog entry (fetched
/// on the server on first <c>up</c>) or a .gguf file (mounted into the container; the memory check reads its header,
/// so generate where the file is).
/// </summary>
public sealed record ComposeModel(string ServedName, CatalogEntry? Entry, string? LocalFile)
{
    public static ComposeModel Resolve(string value, string settingName, string? servedName, string kind, ModelCatalog catalog)
    {
        var (path, entry) = ModelResolver.Identify(value, settingName, kind, catalog);
        return new ComposeModel(servedName ?? entry?.Name ?? Path.GetFileNameWithoutExtension(path!), entry, path);
    }
}
