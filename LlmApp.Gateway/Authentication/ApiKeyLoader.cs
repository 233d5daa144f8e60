using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LlmApp.Gateway.Authentication;

/// <summary>
/// Reads the keys in force, <c>Auth:Keys</c> and <c>Auth:KeysFile</c> together, and hashes them. The same reading
/// serves the start (its problems stop the gateway, one line each) and every reload (its problems keep the old keys).
/// </summary>
internal static class ApiKeyLoader
{
    public static (StoredKey[] Keys, List<string> Problems) Load(AuthOptions options)
    {
        var problems = new List<string>();
        var entries = new List<(ApiKeyEntry Entry, string Source)>();
        for (var i = 0; i < options.Keys.Count; i++)
        {
            entries.Add((options.Keys[i], $"Auth:Keys:{i}"));
        }

        if (options.KeysFile is { Length: > 0 } path)
        {
            var (fileKeys, problem) = ReadFile(path);
            if (problem is not null)
            {
                problems.Add(problem);
            }

            for (var i = 0; i < fileKeys.Count; i++)
            {
                entries.Add((fileKeys[i], $"Auth:KeysFile '{path}': keys[{i}]"));
            }
        }

        foreach (var (entry, source) in entries)
        {
            if (string.IsNullOrWhiteSpace(entry.Name))
            {
                problems.Add($"{source} has no name.");
            }
            else if (string.IsNullOrEmpty(entry.Key))
            {
                problems.Add($"{source}: the key named '{entry.Name}' is empty.");
            }
        }

        foreach (var duplicate in entries.Where(e => !string.IsNullOrWhiteSpace(e.Entry.Name)).GroupBy(e => e.Entry.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Two keys are named '{duplicate.Key}' ({string.Join(" and ", duplicate.Select(e => e.Source))}); each name must be unique.");
        }

        var keys = problems.Count == 0
            ? entries.Select(e => new StoredKey(e.Entry.Name, Hash(e.Entry.Key), e.Entry.Enabled)).ToArray()
            : [];
        return (keys, problems);
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The file's keys, or why there are none; the problem names the file, as the user wrote its path.</summary>
    private static (List<ApiKeyEntry> Keys, string? Problem) ReadFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ([], $"Auth:KeysFile '{path}' does not exist.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ([], $"Auth:KeysFile '{path}' cannot be read: {ex.Message}");
        }

        try
        {
            var content = JsonSerializer.Deserialize(bytes, ApiKeysJsonContext.Default.ApiKeysFileContent);
            if (content?.Keys is not { } keys)
            {
                return ([], $"Auth:KeysFile '{path}' is not valid: it has no \"keys\" list, as in {{\"keys\":[{{\"name\":\"app1\",\"key\":\"sk-...\"}}]}}.");
            }

            if (keys.IndexOf(null) is var missing and >= 0)
            {
                return ([], $"Auth:KeysFile '{path}' is not valid: keys[{missing}] is null.");
            }

            return ([.. keys.OfType<ApiKeyEntry>()], null);
        }
        catch (JsonException ex)
        {
            // Its message names the place (Path: $.keys[0].key | LineNumber: 3 ...), and of the text there one character at most.
            return ([], $"Auth:KeysFile '{path}' is not valid JSON: {ex.Message}");
        }
    }
}
