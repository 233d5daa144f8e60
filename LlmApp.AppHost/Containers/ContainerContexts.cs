using System.Runtime.InteropServices;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Steps;
using LlmApp.Models;

namespace LlmApp.AppHost.Containers;

/// <summary>
/// Stages on the host what the images under containers/ copy in: the llama.cpp source and the self-contained .NET apps.
/// Inside <c>docker build</c> only Debian's plain-HTTP mirror can be reached (npm and NuGet over HTTPS cannot, and no
/// host certificate may be baked into an image), so everything fetched over HTTPS is fetched here.
/// </summary>
public static class ContainerContexts
{
    private const string Step = "container context step";

    /// <summary>Marks a staged llama.cpp tree as whole and names its version; written last, so a half-staged tree has none.</summary>
    public const string SourceMarker = ".llmapp-version";

    /// <summary>
    /// Fills containers/llama-cpp/source (skipped when that llama.cpp version is already there), containers/gateway/app and
    /// containers/model/app. <paramref name="runtimeIdentifier"/> is the .NET runtime the images run on; null picks the
    /// host's architecture (linux-x64 or linux-arm64).
    /// </summary>
    public static async Task PrepareAsync(string repositoryRoot, string? runtimeIdentifier = null, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(repositoryRoot);
        var containers = Path.Combine(root, "containers");
        var rid = runtimeIdentifier ?? DefaultRuntimeIdentifier();
        var scratch = Path.Combine(Path.GetTempPath(), "llmapp-containers");
        Directory.CreateDirectory(scratch);
        var log = Path.Combine(scratch, "prepare.log");
        File.WriteAllText(log, "");
        SetupLog.Info($"staging container build contexts under {containers} for {rid}; log: {log}");

        await StageLlamaCppSourceAsync(Path.Combine(containers, "llama-cpp", "source"), scratch, log, cancellationToken);
        await PublishAsync(root, "LlmApp.Gateway", Path.Combine(containers, "gateway", "app"), rid, log, "2/3", cancellationToken);
        await PublishAsync(root, "LlmApp.ModelTool", Path.Combine(containers, "model", "app"), rid, log, "3/3", cancellationToken);
        SetupLog.Info("container build contexts staged");
    }

    private static async Task StageLlamaCppSourceAsync(string target, string scratch, string log, CancellationToken cancellationToken)
    {
        var marker = Path.Combine(target, SourceMarker);
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker, cancellationToken)).Trim() == LlamaCppSource.Version)
        {
            SetupLog.Info($"context 1/3: llama.cpp {LlamaCppSource.Version} source already staged in {target}");
            return;
        }

        // Whatever is there is another version or was cut short (no marker): start from nothing.
        DeleteTree(target);
        var work = Path.Combine(scratch, $"fetch-{Environment.ProcessId}");
        DeleteTree(work);
        Directory.CreateDirectory(work);
        try
        {
            await LlamaCppSourceFetcher.FetchAsync(target, work, log, $"{Step} 'llama.cpp source'",
                onStep: description => SetupLog.Info($"context 1/3: llama.cpp {LlamaCppSource.Version} source: {description}"),
                cancellationToken: cancellationToken);
        }
        finally
        {
            DeleteTree(work);
        }

        // The image builds from the files alone; 34 MB of history would only slow every docker build's context upload.
        DeleteTree(Path.Combine(target, ".git"));
        await File.WriteAllTextAsync(marker, LlamaCppSource.Version + "\n", cancellationToken);
    }

    private static async Task PublishAsync(
        string root, string project, string output, string rid, string log, string position, CancellationToken cancellationToken)
    {
        var projectFile = Path.Combine(root, project, project + ".csproj");
        if (!File.Exists(projectFile))
        {
            SetupLog.Info($"context {position}: {project} skipped, {projectFile} does not exist");
            return;
        }

        SetupLog.Info($"context {position}: dotnet publish {project} ({rid}, self-contained) to {output}");
        // A file the project no longer produces must not linger in the image.
        DeleteTree(output);
        await ExternalCommand.RunAsync($"{Step} 'dotnet publish {project}'", "dotnet",
            ["publish", projectFile, "-c", "Release", "-r", rid, "--self-contained", "-o", output, "--nologo"],
            root, log, cancellationToken: cancellationToken);
    }

    private static string DefaultRuntimeIdentifier() => RuntimeInformation.OSArchitecture switch
    {
        // Docker runs images of the host's architecture by default (Docker Desktop on Apple silicon: arm64).
        Architecture.X64 => "linux-x64",
        Architecture.Arm64 => "linux-arm64",
        var other => throw new SetupException(
            $"{Step} 'runtime identifier': no Linux image for a {other} host; pass linux-x64 or linux-arm64."),
    };

    /// <summary>Deletes a folder if it exists, including git's read-only object files (which Windows refuses to delete).</summary>
    private static void DeleteTree(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(path, recursive: true);
    }
}
