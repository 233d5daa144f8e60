namespace LlmApp.AppHost.Settings;

/// <summary>The per-user cache that keeps models and llama-server builds out of the repository and across clones.</summary>
public static class CachePaths
{
    public static string Root(LlmSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.CacheDirectory))
        {
            return UserPath.Resolve(settings.CacheDirectory);
        }

        return Path.Combine(UserCacheDirectory(), "llmapp");
    }

    public static string Models(LlmSettings settings) => Path.Combine(Root(settings), "models");

    public static string LlamaCpp(LlmSettings settings) => Path.Combine(Root(settings), "llama.cpp");

    private static string UserCacheDirectory()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(home, "Library", "Caches");
        }

        if (OperatingSystem.IsWindows())
        {
            return Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return string.IsNullOrWhiteSpace(xdg) ? Path.Combine(home, ".cache") : xdg;
    }
}
