using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.Tests.Infrastructure;

/// <summary>Where the tests find the repository, the tiny test model and a scratch cache.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The repository's model catalog, as the AppHost reads it.</summary>
    public static ModelCatalog Catalog { get; } = ModelCatalog.Load(Path.Combine(RepositoryRoot, "models", "catalog.json"));

    private static readonly Lazy<string> s_testModel = new(() => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(TestModelLocator.Variable))
        ? TinyModel
        : Locate(settings => TestModelLocator.LocateAsync(
            Environment.GetEnvironmentVariable(TestModelLocator.Variable), TestModelLocator.SharedFile(RepositoryRoot), settings, Catalog)));

    private static readonly Lazy<string> s_tinyModel = new(() => Locate(settings => TestModelLocator.LocateTinyAsync(
        TestModelLocator.SharedFile(RepositoryRoot), settings, Catalog)));

    /// <summary>
    /// The model every test serves: <c>LLMAPP_TEST_MODEL</c>, else the tiny random-weights Llama (gibberish, but real
    /// GGUF through the real llama-server, and fast on one core) from the shared folder or the model cache, fetched
    /// there once when neither has it (never twice at once). Looked for once; a failure is the same one line for every test.
    /// </summary>
    public static string TestModel => s_testModel.Value;

    /// <summary>The tiny model itself, for the tests that check its size and shape.</summary>
    public static string TinyModel => s_tinyModel.Value;

    // Off the test's synchronization context: xunit's would deadlock a blocking wait on the download.
    private static string Locate(Func<LlmSettings, Task<string>> locate) =>
        Task.Run(() => locate(TestModelLocator.EnvironmentSettings())).GetAwaiter().GetResult();

    public static string NewScratchDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "llmapp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmApp.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"LlmApp.sln was not found above {AppContext.BaseDirectory}.");
    }
}
