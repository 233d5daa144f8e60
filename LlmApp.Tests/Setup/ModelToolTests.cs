using System.Security.Cryptography;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Setup;

/// <summary>
/// llmapp-model, the compose deployment's one-shot model service, run as a real process (<c>dotnet llmapp-model.dll</c>)
/// against a Hugging Face mirror on loopback, with a test catalog whose entry is the shared tiny model.
/// </summary>
public sealed class ModelToolTests : IAsyncLifetime
{
    private const string Repo = "aladar/llama-2-tiny-random-GGUF";
    private const string Revision = "main";
    private const string FileName = "llama-2-tiny-random.gguf";

    private static readonly string s_tool = ToolAssembly();

    private readonly string _scratch = TestPaths.NewScratchDirectory();
    private string ModelsDirectory => Path.Combine(_scratch, "models");
    private string Link => Path.Combine(ModelsDirectory, "model.gguf");
    private string Catalog => Path.Combine(_scratch, "catalog.json");
    private ModelMirror _mirror = null!;
    private string _sha256 = null!;

    public async Task InitializeAsync()
    {
        await using (var model = File.OpenRead(TestPaths.TestModel))
        {
            _sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(model));
        }

        await WriteCatalogAsync(Catalog, _sha256);
        _mirror = await ModelMirror.StartAsync(Repo, Revision, FileName, TestPaths.TestModel);
    }

    public async Task DisposeAsync()
    {
        await _mirror.DisposeAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task ACatalogModelIsDownloadedVerifiedAndLinked()
    {
        var run = await RunAsync(["--model", "tiny"]);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.NotNull(new FileInfo(Link).LinkTarget);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TestModel), await File.ReadAllBytesAsync(Link));
        Assert.Single(_mirror.Requests);
        Assert.Empty(run.StandardError);
    }

    [Fact]
    public async Task ASecondRunFindsTheVerifiedFileAndDoesNotDownloadAgain()
    {
        var first = await RunAsync(["--model", "tiny"]);
        var second = await RunAsync(["--model", "tiny"]);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Single(_mirror.Requests);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TestModel), await File.ReadAllBytesAsync(Link));
    }

    [Fact]
    public async Task AMountedFileWinsOverTheCatalogAndReplacesAnExistingLink()
    {
        var downloaded = await RunAsync(["--model", "tiny"]);
        var mounted = await RunAsync(["--model", "tiny", "--mounted", TestPaths.TestModel]);

        Assert.True(downloaded.ExitCode == 0, downloaded.Output);
        Assert.True(mounted.ExitCode == 0, mounted.Output);
        Assert.Equal(TestPaths.TestModel, new FileInfo(Link).ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        Assert.Single(_mirror.Requests);
        Assert.Contains(TestPaths.TestModel, mounted.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(ModelsDirectory, "*.tmp"));
    }

    [Fact]
    public async Task AMountedFileAloneIsUsedWithoutAnyRequest()
    {
        var run = await RunAsync(["--model", "tiny", "--mounted", TestPaths.TestModel]);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(TestPaths.TestModel, new FileInfo(Link).ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        Assert.Empty(_mirror.Requests);
    }

    [Fact]
    public async Task DevNullAsTheMountedFileCountsAsNotMounted()
    {
        var run = await RunAsync(["--model", "tiny", "--mounted", "/dev/null"]);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Single(_mirror.Requests);
        Assert.StartsWith(ModelsDirectory, new FileInfo(Link).ResolveLinkTarget(returnFinalTarget: true)!.FullName, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TestModel), await File.ReadAllBytesAsync(Link));
    }

    [Fact]
    public async Task AMountedDirectoryIsAnErrorRatherThanADownload()
    {
        // What Docker leaves when LLMAPP_MODEL_FILE names a file the host does not have.
        var directory = Directory.CreateDirectory(Path.Combine(_scratch, "missing.gguf")).FullName;

        var run = await RunAsync(["--model", "tiny", "--mounted", directory]);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.StandardError));
        Assert.StartsWith($"llmapp-model: error: the mounted model {directory} is a directory", line, StringComparison.Ordinal);
        Assert.Empty(_mirror.Requests);
    }

    [Fact]
    public async Task TheEnvironmentSuppliesWhatTheFlagsDoNotAndAFlagWins()
    {
        var run = await RunAsync(["--model", "tiny"], includeDefaults: false, environment: new Dictionary<string, string>
        {
            ["LLMAPP_MODEL"] = "not-in-the-catalog",
            ["LLMAPP_MODELS_DIR"] = ModelsDirectory,
            ["LLMAPP_MODEL_LINK"] = Link,
            ["LLMAPP_MODEL_MOUNTED"] = "/dev/null",
            ["LLMAPP_HF_ENDPOINT"] = _mirror.BaseAddress.ToString().TrimEnd('/'),
        });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Single(_mirror.Requests);
        Assert.Equal(await File.ReadAllBytesAsync(TestPaths.TestModel), await File.ReadAllBytesAsync(Link));
    }

    [Fact]
    public async Task AnUnknownNameFailsWithOneLineListingTheCatalog()
    {
        var run = await RunAsync(["--model", "no-such-model"]);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.StandardError));
        Assert.StartsWith("llmapp-model: error: 'no-such-model' is not in the catalog", line, StringComparison.Ordinal);
        Assert.Contains("tiny, other-model", line, StringComparison.Ordinal);
        Assert.Empty(_mirror.Requests);
        Assert.False(File.Exists(Link));
    }

    [Fact]
    public async Task AChecksumMismatchFailsWithOneLineAndLinksNothing()
    {
        await WriteCatalogAsync(Catalog, new string('0', 64));

        var run = await RunAsync(["--model", "tiny"]);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.StandardError));
        Assert.StartsWith("llmapp-model: error: ", line, StringComparison.Ordinal);
        Assert.Contains("sha256 mismatch", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Link));
        Assert.Null(new FileInfo(Link).LinkTarget);
    }

    [Fact]
    public async Task AMissingRequiredOptionIsNamedOnOneLine()
    {
        var run = await RunAsync(["--model", "tiny", "--models-dir", ModelsDirectory], includeDefaults: false);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("llmapp-model: error: --link (or LLMAPP_MODEL_LINK) is required.", Assert.Single(Lines(run.StandardError)));
    }

    [Fact]
    public async Task TheBackendKeyIsMadeOnceRandomAndReadableByTheServicesThatMountIt()
    {
        var keyFile = Path.Combine(_scratch, "backend-key", "key");
        var other = Path.Combine(_scratch, "other-deployment", "key");

        var first = await RunAsync(["--model", "tiny", "--mounted", TestPaths.TestModel], environment: new Dictionary<string, string> { ["LLMAPP_BACKEND_KEY_FILE"] = keyFile });
        var key = await File.ReadAllTextAsync(keyFile);
        var second = await RunAsync(["--model", "tiny", "--mounted", TestPaths.TestModel, "--backend-key-file", keyFile]);
        await RunAsync(["--model", "tiny", "--mounted", TestPaths.TestModel, "--backend-key-file", other]);

        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Output + second.Output);
        Assert.Matches("^[0-9a-f]{64}\n$", key);
        Assert.Equal(key, await File.ReadAllTextAsync(keyFile));
        Assert.NotEqual(key, await File.ReadAllTextAsync(other));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(keyFile));
        }

        Assert.Contains("backend key: made", first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Trim(), first.Output + second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyOnlyMakesTheKeyForAServerThatFetchesItsOwnModelAndNothingElse()
    {
        var keyFile = Path.Combine(_scratch, "backend-key", "key");

        var run = await RunAsync(["--key-only", "--backend-key-file", keyFile], includeDefaults: false);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Matches("^[0-9a-f]{64}\n$", await File.ReadAllTextAsync(keyFile));
        Assert.Empty(_mirror.Requests);
        Assert.False(Directory.Exists(ModelsDirectory));
        var withoutFile = await RunAsync(["--key-only"], includeDefaults: false);
        Assert.Equal("llmapp-model: error: --backend-key-file (or LLMAPP_BACKEND_KEY_FILE) is required.", Assert.Single(Lines(withoutFile.StandardError)));
    }

    private Task<CommandRunner.Result> RunAsync(
        IEnumerable<string> arguments, bool includeDefaults = true, IDictionary<string, string>? environment = null)
    {
        string[] defaults = includeDefaults
            ? ["--models-dir", ModelsDirectory, "--link", Link, "--endpoint", _mirror.BaseAddress.ToString()]
            : [];
        // Blank variables, so that settings of the machine running the tests cannot stand in for a missing flag.
        var blank = new Dictionary<string, string>
        {
            ["LLMAPP_MODEL"] = "", ["LLMAPP_MODELS_DIR"] = "", ["LLMAPP_MODEL_LINK"] = "", ["LLMAPP_MODEL_MOUNTED"] = "", ["LLMAPP_HF_ENDPOINT"] = "",
            ["LLMAPP_BACKEND_KEY_FILE"] = "",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            blank[name] = value;
        }

        return CommandRunner.RunAsync(
            ProjectProcess.DotnetHost(), [s_tool, .. arguments, .. defaults, "--catalog", Catalog], _scratch, blank, TimeSpan.FromMinutes(1));
    }

    private static async Task WriteCatalogAsync(string path, string sha256) =>
        await File.WriteAllTextAsync(path, $$"""
            {
              "models": [
                {
                  "name": "tiny", "repo": "{{Repo}}", "revision": "{{Revision}}", "file": "{{FileName}}",
                  "size": {{new FileInfo(TestPaths.TestModel).Length}}, "sha256": "{{sha256}}", "license": "mit", "description": "test model"
                },
                {
                  "name": "other-model", "kind": "embedding", "repo": "none/none", "revision": "main", "file": "none.gguf",
                  "size": 1, "sha256": "00", "license": "mit", "description": "only listed"
                }
              ]
            }
            """);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string ToolAssembly()
    {
        // Built beside the tests by the ProjectReference, under the same configuration and target framework folders.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(TestPaths.RepositoryRoot, "LlmApp.ModelTool", "bin", testOutput.Parent!.Name, testOutput.Name, "llmapp-model.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"LlmApp.ModelTool is not built at {path}.");
    }
}
