using LlmApp.AppHost.Settings;
using LlmApp.Models;
using Microsoft.Extensions.Configuration;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Finds the tiny random-weights Llama the tests serve, so that a clone anywhere runs its tests: the shared folder beside
/// the repository, where there is one, else the catalog's <c>llama-2-tiny-random</c>, fetched once into the model cache
/// by the AppHost's own downloader and checked against the catalog's sha256, as a user's first run fetches its model.
/// </summary>
public static class TestModelLocator
{
    public const string CatalogName = "llama-2-tiny-random";

    /// <summary>The variable that names another model file for the tests.</summary>
    public const string Variable = "LLMAPP_TEST_MODEL";

    private static readonly TimeSpan s_downloadTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The shared folder's copy, beside the repository (as on this project's machines).</summary>
    public static string SharedFile(string repositoryRoot) =>
        Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "models", CatalogName + ".gguf"));

    /// <summary>
    /// The model file: <paramref name="configured"/> (<see cref="Variable"/>) when set, else the tiny model. Nothing
    /// found is one line naming every place tried, and how to give one.
    /// </summary>
    public static async Task<string> LocateAsync(
        string? configured, string sharedFile, LlmSettings settings, ModelCatalog catalog, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var path = Path.GetFullPath(configured);
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"{Variable} points at {path}, which does not exist; set it to a .gguf file, or unset it to use the tiny test model.");
        }

        return await LocateTinyAsync(sharedFile, settings, catalog, cancellationToken);
    }

    /// <summary>The tiny model itself, whatever <see cref="Variable"/> says: tests that check its size and shape need this file.</summary>
    public static async Task<string> LocateTinyAsync(
        string sharedFile, LlmSettings settings, ModelCatalog catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(catalog);
        if (File.Exists(sharedFile))
        {
            return sharedFile;
        }

        var entry = catalog.Find(CatalogName) ?? throw new InvalidOperationException($"models/catalog.json has no {CatalogName}.");
        var cache = CachePaths.Models(settings);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) }) { Timeout = s_downloadTimeout };
            return await ModelDownloader.EnsureAsync(entry, cache, settings.HuggingFaceEndpoint, http, "", cancellationToken);
        }
        catch (SetupException ex)
        {
            throw new InvalidOperationException(
                $"No test model: {Variable} is not set, {sharedFile} does not exist, and the catalog's {CatalogName} could not be " +
                $"fetched into {cache} ({ex.Message.Trim()}). Set {Variable} to a .gguf file, or Llm__HuggingFaceEndpoint to a mirror.", ex);
        }
    }

    /// <summary>The AppHost's settings from the environment (<c>Llm__CacheDirectory</c>, <c>Llm__HuggingFaceEndpoint</c>), as a user's run reads them.</summary>
    public static LlmSettings EnvironmentSettings() => LlmSettings.From(new ConfigurationBuilder().AddEnvironmentVariables().Build());
}
