using System.Text.Json;

namespace LlmApp.AppHost.Setup;

/// <summary>
/// Checks <c>Llm:ApiKeysFile</c> before anything starts, so that a typo in its path or its JSON is one line from the
/// AppHost rather than a gateway that will not start. The gateway checks the file again, with the same rules, whenever
/// it reads it.
/// </summary>
public static class ApiKeysFileCheck
{
    private const string Setting = "Llm:ApiKeysFile";

    private static readonly JsonDocumentOptions s_options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The file's absolute path, once it holds a <c>keys</c> list of named, non-empty, uniquely named keys.</summary>
    public static string Check(string path)
    {
        var fullPath = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SetupException($"{Setting} points at '{path}', which does not exist.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SetupException($"{Setting} '{path}' cannot be read: {ex.Message}", ex);
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, s_options);
            CheckShape(document.RootElement, path);
        }
        catch (JsonException ex)
        {
            // The parser's message names the place (LineNumber: 3 ...), and of the text there one character at most.
            throw new SetupException($"{Setting} '{path}' is not valid JSON: {ex.Message}", ex);
        }

        return fullPath;
    }

    private static void CheckShape(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path, "it has no \"keys\" list, as in {\"keys\":[{\"name\":\"app1\",\"key\":\"sk-...\"}]}");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var key in keys.EnumerateArray())
        {
            if (key.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, $"keys[{index}] is not an object");
            }

            var name = key.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            if (string.IsNullOrWhiteSpace(name))
            {
                throw Invalid(path, $"keys[{index}] has no name");
            }

            if (!key.TryGetProperty("key", out var value) || value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 })
            {
                throw Invalid(path, $"the key named '{name}' is empty");
            }

            if (key.TryGetProperty("enabled", out var enabled) && enabled.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw Invalid(path, $"the key named '{name}' has an \"enabled\" that is not true or false");
            }

            if (!names.Add(name))
            {
                throw Invalid(path, $"two keys are named '{name}'");
            }

            index++;
        }
    }

    private static SetupException Invalid(string path, string problem) => new($"{Setting} '{path}' is not valid: {problem}.");
}
