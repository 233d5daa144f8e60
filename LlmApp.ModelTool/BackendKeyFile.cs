using System.Security.Cryptography;

namespace LlmApp.ModelTool;

/// <summary>
/// The key llama-server requires (<c>--api-key-file</c>) and the gateway and Prometheus send, made on the server on
/// first start and kept in its own volume: never in the repository, the image or <c>.env</c>. Each llama-server's
/// fetcher ensures it, so two may race: the file is written aside and moved into place without overwriting, and the
/// first one made is the key.
/// </summary>
public static class BackendKeyFile
{
    /// <summary>Makes <paramref name="path"/> with a new random key unless it holds one; true when it was made now.</summary>
    public static bool Ensure(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new FileInfo(path);
        if (file.Exists && file.Length > 0)
        {
            return false;
        }

        Directory.CreateDirectory(file.DirectoryName!);
        var staging = $"{path}.{Environment.ProcessId}.new";
        // Readable by its group (1654, which compose gives llama-server, the gateway and Prometheus) and nobody else;
        // only their containers mount the volume, read-only.
        File.WriteAllText(staging, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        }

        try
        {
            File.Move(staging, path, overwrite: file.Exists);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another fetcher made it first: its key stands.
            File.Delete(staging);
            return false;
        }
    }
}
