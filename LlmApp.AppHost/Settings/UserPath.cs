namespace LlmApp.AppHost.Settings;

/// <summary>
/// Resolves a path the user typed. `dotnet run --project LlmApp.AppHost` runs the AppHost in its project
/// folder, so a relative path is taken from the shell's directory (PWD), where the user typed it.
/// </summary>
public static class UserPath
{
    public static string Resolve(string path)
    {
        if (path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]);
        }

        if (Path.IsPathRooted(path))
        {
            return Path.GetFullPath(path);
        }

        var shellDirectory = Environment.GetEnvironmentVariable("PWD");
        var baseDirectory = !string.IsNullOrEmpty(shellDirectory) && Directory.Exists(shellDirectory)
            ? shellDirectory
            : Environment.CurrentDirectory;
        return Path.GetFullPath(path, baseDirectory);
    }
}
