using LlmApp.AppHost.Compose;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Compose;

/// <summary>
/// The committed docker-compose.yml and .env are what the AppHost generates from its app model: a change to the
/// resources without generating again fails here, with the command that fixes it.
/// </summary>
public sealed class ComposeDriftTests
{
    private const string Generate = "dotnet run --project LlmApp.AppHost -- --operation publish --step publish-compose --output-path .";

    /// <summary>
    /// Each committed file, with the settings it is generated with (those its header names): the compose file and the
    /// .env of every deployment the AppHost writes, so that a new one is covered as soon as it exists.
    /// </summary>
    public static TheoryData<string, string> CommittedFiles()
    {
        var files = new TheoryData<string, string>();
        foreach (var target in ComposeTarget.All)
        {
            files.Add(target.ComposeFile, target.Settings);
            files.Add(target.EnvironmentFile, target.Settings);
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(CommittedFiles))]
    public async Task TheCommittedFileIsWhatTheAppHostGenerates(string file, string settings)
    {
        var output = await ComposeGeneration.GenerateAsync(settings.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        // Paths are written relative to the output folder: from the temporary one they lead back to the repository.
        var toRepository = Path.GetRelativePath(output, TestPaths.RepositoryRoot).Replace('\\', '/') + "/";
        var generated = (await File.ReadAllTextAsync(Path.Combine(output, file))).Replace(toRepository, "./", StringComparison.Ordinal);
        var committed = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, file));
        Assert.True(generated == committed, $"{file} at the repository root differs from a fresh generation; run: {Generate} {settings}");
        // The header names the command that writes the file, settings included.
        Assert.Contains($"#   {Generate}{(settings.Length > 0 ? " " + settings : "")}\n", committed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PathsLeadFromTheOutputFolderToTheRepositorysContainers()
    {
        var output = Path.Combine(TestPaths.NewScratchDirectory(), "deploy");
        await ComposeGeneration.GenerateAsync(outputDirectory: output);

        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.yml"));
        var toRepository = Path.GetRelativePath(output, TestPaths.RepositoryRoot).Replace('\\', '/');
        Assert.StartsWith("../", toRepository, StringComparison.Ordinal);
        Assert.Contains($"      context: {toRepository}/containers/llama-cpp\n", compose, StringComparison.Ordinal);
        Assert.Contains($"    - \"{toRepository}/containers/grafana/provisioning:/etc/grafana/provisioning:ro\"\n", compose, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.GetFullPath(Path.Combine(output, toRepository, "containers", "llama-cpp"))));
    }

    [Fact]
    public async Task GenerationNeedsNoNetworkNoModelAndNoLlamaServer()
    {
        // No PATH (so no npm, git or cmake to build with) and an empty cache (no model, no llama-server): publishing
        // must not reach for any of them.
        var output = await ComposeGeneration.GenerateAsync(
            [$"--Llm:CacheDirectory={TestPaths.NewScratchDirectory()}", "--Llm:HuggingFaceEndpoint=http://127.0.0.1:9/"],
            new Dictionary<string, string> { ["PATH"] = TestPaths.NewScratchDirectory() });

        Assert.True(File.Exists(Path.Combine(output, "docker-compose.yml")));
    }
}
