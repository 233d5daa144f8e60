using LlmApp.AppHost.Setup;

namespace LlmApp.AppHost.Models;

/// <summary>
/// Turns the <c>Llm:Model</c> setting into a .gguf file on disk: a path is used as it is; a catalog name is
/// downloaded once into the cache and verified.
/// </summary>
public static class ModelResolver
{
    public const string ModelSetting = "Llm:Model";

    public static async Task<ResolvedModel> ResolveAsync(
        LlmSettings settings, ModelCatalog catalog, HttpClient httpClient, CancellationToken cancellationToken = default)
    {
        var value = settings.Model.Trim();
        if (value.Length == 0)
        {
            throw new SetupException($"{ModelSetting} is empty: set it to a catalog name ({Names(catalog)}) or a .gguf file.");
        }

        if (LooksLikePath(value))
        {
            var path = UserPath.Resolve(value);
            if (!File.Exists(path))
            {
                throw new SetupException($"{ModelSetting} points at '{path}', which does not exist.");
            }

            SetupLog.Info($"model: {path} (from {ModelSetting})");
            return new ResolvedModel(path, settings.ServedModelName ?? Path.GetFileNameWithoutExtension(path));
        }

        var entry = catalog.Find(value)
            ?? throw new SetupException(
                $"{ModelSetting} '{value}' is neither a catalog name ({Names(catalog)}) nor a path to a .gguf file.");

        var file = await ModelDownloader.EnsureAsync(entry, CachePaths.Models(settings), settings.HuggingFaceEndpoint, httpClient, cancellationToken);
        SetupLog.Info($"model: {entry.Name} at {file}");
        return new ResolvedModel(file, settings.ServedModelName ?? entry.Name);
    }

    private static bool LooksLikePath(string value) =>
        value.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ||
        value.Contains(Path.DirectorySeparatorChar) ||
        value.Contains(Path.AltDirectorySeparatorChar);

    private static string Names(ModelCatalog catalog) => string.Join(", ", catalog.Models.Select(m => m.Name));
}
