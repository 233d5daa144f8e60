namespace LlmApp.AppHost.LlamaCpp;

/// <summary>
/// Where llama.cpp's source comes from when llama-server has to be built: the npm package
/// node-llama-cpp ships the exact llama.cpp release it binds to as a git bundle, which reaches
/// machines that can reach npm but not GitHub.
/// </summary>
public static class LlamaCppSource
{
    public const string NpmPackage = "node-llama-cpp@3.22.1";

    /// <summary>The llama.cpp release inside <see cref="NpmPackage"/> (its llama/llama.cpp.info.json); the cache key.</summary>
    public const string Version = "v0.5.0";

    public const string BundlePath = "package/llama/gitRelease.bundle";

    public const string InfoPath = "package/llama/llama.cpp.info.json";
}
