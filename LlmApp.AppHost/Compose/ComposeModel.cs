using LlmApp.AppHost.Models;
using LlmApp.AppHost.Setup;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// The model a compose service serves, decided at generation without downloading anything: a catalog entry (fetched
/// on the server on first <c>up</c>) or a .gguf file on the server (mounted into the container).
/// </summary>
public sealed record ComposeModel(string ServedName, CatalogEntry? Entry, string? LocalFile)
{
    public static ComposeModel Resolve(string value, string settingName, string? servedName, string kind, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var trimmed = value.Trim();
        if (trimmed.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || trimmed.Contains('/') || trimmed.Contains('\\'))
        {
            var path = UserPath.Resolve(trimmed);
            if (!File.Exists(path))
            {
                // The memory check reads the file's header; generate where the file is (the server, or a copy of it).
                throw new SetupException($"{settingName} points at '{path}', which does not exist here; the compose file is generated where the model file is.");
            }

            return new ComposeModel(servedName ?? Path.GetFileNameWithoutExtension(path), null, path);
        }

        var names = string.Join(", ", catalog.Models.Where(m => m.Kind == kind).Select(m => m.Name));
        var entry = catalog.Find(trimmed)
            ?? throw new SetupException($"{settingName} '{trimmed}' is neither a catalog name ({names}) nor a path to a .gguf file.");
        if (entry.Kind != kind)
        {
            throw new SetupException($"{settingName} '{trimmed}' is not a {kind} model; it takes one of {names}.");
        }

        return new ComposeModel(servedName ?? entry.Name, entry, null);
    }
}
