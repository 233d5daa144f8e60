using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.AppHost.LlamaCpp;

/// <summary>
/// Finds the llama-server to run, in this order, saying what it tried as it goes:
/// the <c>Llm:ServerPath</c> setting; <c>llama-server</c> on PATH (Homebrew's build has Metal on macOS);
/// a build cached for this llama.cpp version; otherwise a fresh build from source, then cached.
/// </summary>
public static class LlamaServerLocator
{
    public const string ServerPathSetting = "Llm:ServerPath";

    public static async Task<string> LocateAsync(LlmSettings settings, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(settings.ServerPath))
        {
            var configured = UserPath.Resolve(settings.ServerPath);
            if (!File.Exists(configured))
            {
                throw new SetupException($"{ServerPathSetting} points at '{configured}', which does not exist.");
            }

            SetupLog.Info($"llama-server: {configured} (from {ServerPathSetting})");
            return configured;
        }

        if (FindOnPath(LlamaServerBuilder.ExecutableName) is { } onPath)
        {
            SetupLog.Info($"llama-server: {onPath} (found on PATH)");
            return onPath;
        }

        var llamaCppCache = CachePaths.LlamaCpp(settings);
        var cached = Path.Combine(LlamaServerBuilder.InstallDirectory(llamaCppCache), LlamaServerBuilder.ExecutableName);
        if (LlamaServerBuilder.IsInstalled(llamaCppCache))
        {
            SetupLog.Info($"llama-server: {cached} (cached build of llama.cpp {LlamaCppSource.Version})");
            return cached;
        }

        SetupLog.Info($"llama-server: not set in {ServerPathSetting}, not on PATH, no cached build for llama.cpp {LlamaCppSource.Version}");
        return await LlamaServerBuilder.BuildAsync(llamaCppCache, cancellationToken);
    }

    internal static string? FindOnPath(string executable)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
