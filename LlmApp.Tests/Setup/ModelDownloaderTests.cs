using System.Security.Cryptography;
using LlmApp.Tests.Infrastructure;
using LlmApp.Models;

namespace LlmApp.Tests.Setup;

/// <summary>The downloader against a real HTTP mirror on loopback (Hugging Face itself is out of reach here).</summary>
public sealed class ModelDownloaderTests : IAsyncLifetime
{
    private const string Repo = "aladar/llama-2-tiny-random-GGUF";
    private const string Revision = "main";
    private const string FileName = "llama-2-tiny-random.gguf";
    private const string Hint = "Set Llm:Model (Llm__Model) to a local .gguf file to run without a download.";

    private readonly string _modelsDirectory = TestPaths.NewScratchDirectory();
    private ModelMirror _mirror = null!;
    private CatalogEntry _entry = null!;

    public async Task InitializeAsync()
    {
        var model = TestPaths.TestModel;
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(File.OpenRead(model)));
        _entry = new CatalogEntry("tiny", Repo, Revision, FileName, new FileInfo(model).Length, sha256, "mit", "test model");
        _mirror = await ModelMirror.StartAsync(Repo, Revision, FileName, model);
    }

    public async Task DisposeAsync()
    {
        await _mirror.DisposeAsync();
        Directory.Delete(_modelsDirectory, recursive: true);
    }

    [Fact]
    public async Task ADownloadIsVerifiedAndThenReusedWithoutAnotherRequest()
    {
        using var http = new HttpClient();

        var path = await ModelDownloader.EnsureAsync(_entry, _modelsDirectory, _mirror.BaseAddress, http, Hint);
        var again = await ModelDownloader.EnsureAsync(_entry, _modelsDirectory, _mirror.BaseAddress, http, Hint);

        Assert.Equal(path, again);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TestModel), await File.ReadAllBytesAsync(path));
        Assert.Single(_mirror.Requests);
        Assert.False(File.Exists(path + ".part"));
    }

    [Fact]
    public async Task AnInterruptedDownloadResumesWhereItStopped()
    {
        using var http = new HttpClient();
        _mirror.CutAfterBytes = 700_000;

        var interrupted = await Assert.ThrowsAsync<SetupException>(
            () => ModelDownloader.EnsureAsync(_entry, _modelsDirectory, _mirror.BaseAddress, http, Hint));
        var partial = ModelDownloader.TargetPath(_entry, _modelsDirectory) + ".part";
        var kept = new FileInfo(partial).Length;

        var path = await ModelDownloader.EnsureAsync(_entry, _modelsDirectory, _mirror.BaseAddress, http, Hint);

        Assert.EndsWith(Hint, interrupted.Message, StringComparison.Ordinal);
        Assert.InRange(kept, 1, 700_000);
        Assert.Equal([null, $"bytes={kept}-"], _mirror.Requests);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TestModel), await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task AChecksumMismatchRemovesTheFileAndSaysSo()
    {
        using var http = new HttpClient();
        var wrong = _entry with { Sha256 = new string('0', 64) };

        var error = await Assert.ThrowsAsync<SetupException>(
            () => ModelDownloader.EnsureAsync(wrong, _modelsDirectory, _mirror.BaseAddress, http, Hint));

        Assert.Contains("sha256 mismatch", error.Message, StringComparison.Ordinal);
        var target = ModelDownloader.TargetPath(wrong, _modelsDirectory);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".part"));
    }

    [Fact]
    public async Task AnUnreachableMirrorNamesTheSettingToUseALocalFile()
    {
        using var http = new HttpClient();
        var closed = new Uri("http://127.0.0.1:9/");

        var error = await Assert.ThrowsAsync<SetupException>(
            () => ModelDownloader.EnsureAsync(_entry, _modelsDirectory, closed, http, Hint));

        Assert.StartsWith("model download 'tiny' from http://127.0.0.1:9/", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(Hint, error.Message, StringComparison.Ordinal);
    }
}
