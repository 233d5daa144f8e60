using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.AppHost.Models;

/// <summary>
/// Turns the <c>Llm:Model</c> setting into a .gguf file on disk: a path is used as it is; a catalog name is
/// downloaded once into the cache and verified.
/// </summary>
public static class ModelResolver
{
    public const string ModelSetting = "Llm:Model";
    public const string EmbeddingModelSetting = "Llm:EmbeddingModel";

    public static Task<ResolvedModel> ResolveAsync(
        LlmSettings settings, ModelCatalog catalog, HttpClient httpClient, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return ResolveAsync(settings.Model, ModelSetting, settings.ServedModelName, CatalogEntry.ChatKind, settings, catalog, httpClient, cancellationToken);
    }

    /// <summary>The embedding model of <c>Llm:EmbeddingModel</c>, or null when it is not set.</summary>
    public static async Task<ResolvedModel?> ResolveEmbeddingAsync(
        LlmSettings settings, ModelCatalog catalog, HttpClient httpClient, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return string.IsNullOrWhiteSpace(settings.EmbeddingModel)
            ? null
            : await ResolveAsync(settings.EmbeddingModel, EmbeddingModelSetting, settings.EmbeddingServedModelName, CatalogEntry.EmbeddingKind, settings, catalog,
                httpClient, cancellationToken);
    }

    private static async Task<ResolvedModel> ResolveAsync(
        string setting, string settingName, string? servedName, string kind, LlmSettings settings, ModelCatalog catalog, HttpClient httpClient,
        CancellationToken cancellationToken)
    {
        var (path, entry) = Identify(setting, settingName, kind, catalog);
        if (path is not null)
        {
            SetupLog.Info($"model: {path} (from {settingName})");
            return new ResolvedModel(path, servedName ?? Path.GetFileNameWithoutExtension(path));
        }

        // Identify gives a file or a catalog entry. A failed download names the way around it: a file in the setting.
        var file = await ModelDownloader.EnsureAsync(entry!, CachePaths.Models(settings), settings.HuggingFaceEndpoint, httpClient,
            $"Set {settingName} (Llm__{settingName["Llm:".Length..]}) to a local .gguf file to run without a download.", cancellationToken);
        SetupLog.Info($"model: {entry!.Name} at {file}");
        return new ResolvedModel(file, servedName ?? entry.Name, entry);
    }

    /// <summary>
    /// What a model setting names, without downloading anything: an existing .gguf file, or a catalog entry of
    /// <paramref name="kind"/>. Anything else is a one-line <see cref="SetupException"/> naming the setting.
    /// </summary>
    public static (string? Path, CatalogEntry? Entry) Identify(string setting, string settingName, string kind, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(setting);
        ArgumentNullException.ThrowIfNull(catalog);
        var value = setting.Trim();
        if (value.Length == 0)
        {
            throw new SetupException($"{settingName} is empty: set it to a catalog name ({Names(catalog, kind)}) or a .gguf file.");
        }

        if (LooksLikePath(value))
        {
            var path = UserPath.Resolve(value);
            return File.Exists(path) ? (path, null) : throw new SetupException($"{settingName} points at '{path}', which does not exist.");
        }

        var entry = catalog.Find(value)
            ?? throw new SetupException(
                $"{settingName} '{value}' is neither a catalog name ({Names(catalog, kind)}) nor a path to a .gguf file.");
        return entry.Kind == kind
            ? (null, entry)
            : throw new SetupException(
                $"{settingName} '{value}' is {(entry.Kind == CatalogEntry.EmbeddingKind ? "an embedding" : "a chat")} model; it takes a {kind} model ({Names(catalog, kind)}).");
    }

    private static bool LooksLikePath(string value) =>
        value.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ||
        value.Contains(Path.DirectorySeparatorChar) ||
        value.Contains(Path.AltDirectorySeparatorChar);

    private static string Names(ModelCatalog catalog, string? kind = null) =>
        string.Join(", ", catalog.Models.Where(m => kind is null || m.Kind == kind).Select(m => m.Name));
}
