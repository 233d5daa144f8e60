using LlmApp.AppHost.Settings;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Setup;

/// <summary>
/// How a clone without the shared folder gets its test model: the catalog's tiny model, fetched once into the model cache
/// through the AppHost's downloader from a real HTTP mirror on loopback (Hugging Face itself is out of reach here).
/// </summary>
public sealed class TestModelLocatorTests : IAsyncLifetime
{
    private readonly string _scratch = TestPaths.NewScratchDirectory();
    private ModelMirror _mirror = null!;

    private string NoSharedFolder => Path.Combine(_scratch, "shared", "models", "llama-2-tiny-random.gguf");

    public async Task InitializeAsync()
    {
        var entry = TestPaths.Catalog.Find(TestModelLocator.CatalogName)!;
        _mirror = await ModelMirror.StartAsync(entry.Repo, entry.Revision, entry.File, TestPaths.TinyModel);
    }

    public async Task DisposeAsync()
    {
        await _mirror.DisposeAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task WithoutTheSharedFolderTheCatalogsTinyModelIsFetchedOnceIntoTheCacheAndChecked()
    {
        var settings = new LlmSettings { CacheDirectory = Path.Combine(_scratch, "cache"), HuggingFaceEndpoint = _mirror.BaseAddress };

        var path = await TestModelLocator.LocateAsync(null, NoSharedFolder, settings, TestPaths.Catalog);
        var again = await TestModelLocator.LocateAsync(null, NoSharedFolder, settings, TestPaths.Catalog);

        Assert.Equal(path, again);
        Assert.StartsWith(CachePaths.Models(settings), path, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TinyModel), await File.ReadAllBytesAsync(path));
        Assert.Equal("81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb", (await File.ReadAllTextAsync(path + ".sha256")).Trim());
        Assert.Single(_mirror.Requests);
    }

    [Fact]
    public async Task TheSharedFolderIsUsedWithoutAnyDownload()
    {
        var settings = new LlmSettings { CacheDirectory = Path.Combine(_scratch, "cache"), HuggingFaceEndpoint = _mirror.BaseAddress };

        var path = await TestModelLocator.LocateAsync(null, TestPaths.TinyModel, settings, TestPaths.Catalog);

        Assert.Equal(TestPaths.TinyModel, path);
        Assert.Empty(_mirror.Requests);
    }

    [Fact]
    public async Task WithNoWayToGetItOneLineNamesTheThreePlacesTried()
    {
        var settings = new LlmSettings { CacheDirectory = Path.Combine(_scratch, "cache"), HuggingFaceEndpoint = new Uri($"http://127.0.0.1:{LocalPorts.Free()}/") };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => TestModelLocator.LocateAsync(" ", NoSharedFolder, settings, TestPaths.Catalog));

        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith("No test model: LLMAPP_TEST_MODEL is not set, ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{NoSharedFolder} does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the catalog's llama-2-tiny-random could not be fetched into {CachePaths.Models(settings)} (model download 'llama-2-tiny-random' from {settings.HuggingFaceEndpoint}aladar/llama-2-tiny-random-GGUF/resolve/", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Set LLMAPP_TEST_MODEL to a .gguf file, or Llm__HuggingFaceEndpoint to a mirror.", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(CachePaths.Models(settings), "aladar", "llama-2-tiny-random-GGUF", "llama-2-tiny-random.gguf")));
    }

    [Fact]
    public async Task AConfiguredModelIsUsedAndOneThatDoesNotExistIsNamed()
    {
        var settings = new LlmSettings { CacheDirectory = Path.Combine(_scratch, "cache"), HuggingFaceEndpoint = _mirror.BaseAddress };
        var missing = Path.Combine(_scratch, "missing.gguf");

        Assert.Equal(TestPaths.TinyModel, await TestModelLocator.LocateAsync(TestPaths.TinyModel, NoSharedFolder, settings, TestPaths.Catalog));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => TestModelLocator.LocateAsync(missing, NoSharedFolder, settings, TestPaths.Catalog));

        Assert.Equal($"LLMAPP_TEST_MODEL points at {missing}, which does not exist; set it to a .gguf file, or unset it to use the tiny test model.", error.Message);
        Assert.Empty(_mirror.Requests);
    }
}
