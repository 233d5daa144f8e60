using LlmApp.Models;

namespace LlmApp.ModelTool;

/// <summary>
/// The one path llama-server is told to load: a symlink this tool points at the model it settled on, so the server's
/// command line never changes with the model.
/// </summary>
public static class ModelLink
{
    /// <summary>
    /// Whether a file was bind-mounted for use instead of a download. Compose mounts <c>/dev/null</c> when no file is
    /// configured, so only a non-empty regular file counts. .NET exposes no S_ISREG; devices and FIFOs stat with size 0,
    /// so "not a directory and not empty" is the test. A directory is an error, not "not mounted".
    /// </summary>
    public static bool IsMounted(string? path)
    {
        if (path is not null && Directory.Exists(path))
        {
            // Docker creates a missing bind-mount source as an empty directory: the file named in .env is not on the host.
            // Downloading the catalog model instead would hide that mistake behind gigabytes.
            throw new SetupException(
                $"the mounted model {path} is a directory: LLMAPP_MODEL_FILE names a path that does not exist on the host (Docker made it a directory).");
        }

        return path is not null && new FileInfo(path) is { Exists: true } file && file.Length > 0;
    }

    /// <summary>
    /// Points <paramref name="link"/> at <paramref name="target"/>, replacing what was there in one rename so a reader
    /// never finds the link missing or half-made.
    /// </summary>
    public static void Point(string link, string target)
    {
        var directory = Path.GetDirectoryName(link)!;
        Directory.CreateDirectory(directory);

        // Relative when the model lies beside the link (the models volume), so the link still resolves wherever another
        // container mounts that volume; absolute otherwise (a mounted file sits outside it).
        var relative = Path.GetRelativePath(directory, target);
        var pointsAt = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? target : relative;

        var temporary = $"{link}.{Environment.ProcessId}.tmp";
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, pointsAt);
        File.Move(temporary, link, overwrite: true);
    }
}
