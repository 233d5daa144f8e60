using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LlmApp.ApiKeys;

/// <summary>
/// Reads the keys in force, <c>Auth:Keys</c> and <c>Auth:KeysFile</c> together, and hashes them. The same reading
/// serves the gateway's start (its problems stop it, one line each) and every reload (its problems keep the old keys),
/// and the AppHost's check of <c>Llm:ApiKeysFile</c> before anything starts.
/// </summary>
public static class ApiKeyLoader
{
    /// <summary>The keys, or the problems with them; a problem with the file names it as <paramref name="fileSetting"/> does.</summary>
    public static (StoredKey[] Keys, List<string> Problems) Load(IReadOnlyList<ApiKeyEntry> keys, string? keysFile, string fileSetting = "Auth:KeysFile")
    {
        ArgumentNullException.ThrowIfNull(keys);
        var problems = new List<string>();
        var entries = new List<(ApiKeyEntry Entry, string Source)>();
        for (var i = 0; i < keys.Count; i++)
        {
            entries.Add((keys[i], $"Auth:Keys:{i}"));
        }

        if (keysFile is { Length: > 0 } path)
        {
            var (fileKeys, problem) = ReadFile(path, fileSetting);
            if (problem is not null)
            {
                problems.Add(problem);
            }

            for (var i = 0; i < fileKeys.Count; i++)
            {
                entries.Add((fileKeys[i], $"keys[{i}] of {fileSetting} '{path}'"));
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
                problems.Add($"{source} ('{entry.Name}') has an empty key.");
            }

            foreach (var (limit, value) in (ReadOnlySpan<(string, int?)>)[
                ("requestsPerMinute", entry.RequestsPerMinute), ("tokensPerMinute", entry.TokensPerMinute), ("maxConcurrent", entry.MaxConcurrent),
                ("ttftMs", entry.TtftMs)])
            {
                if (value is <= 0)
                {
                    problems.Add($"{source} ('{entry.Name}') has {limit} {value}; a limit is a positive whole number, or left out for none.");
                }
            }
        }

        foreach (var duplicate in entries.Where(e => !string.IsNullOrWhiteSpace(e.Entry.Name)).GroupBy(e => e.Entry.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Two keys are named '{duplicate.Key}' ({string.Join(" and ", duplicate.Select(e => e.Source))}); each name must be unique.");
        }

        var stored = problems.Count == 0
            ? entries.Select(e => new StoredKey(e.Entry.Name, Hash(e.Entry.Key), e.Entry.Enabled, e.Entry.ToLimits())).ToArray()
            : [];
        return (stored, problems);
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The file's keys, or why there are none; the problem names the file, as the user wrote its path.</summary>
    private static (List<ApiKeyEntry> Keys, string? Problem) ReadFile(string path, string setting)
    {
        if (Directory.Exists(path))
        {
            // What Docker leaves where a file it was asked to mount did not exist.
            return ([], $"{setting} '{path}' is a directory, not a keys file.");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ([], $"{setting} points at '{path}', which does not exist.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ([], $"{setting} '{path}' cannot be read: {ex.Message}");
        }

        try
        {
            var content = JsonSerializer.Deserialize(bytes, ApiKeysJsonContext.Default.ApiKeysFileContent);
            if (content?.Keys is not { } keys)
            {
                return ([], $"{setting} '{path}' is not valid: it has no \"keys\" list, as in {{\"keys\":[{{\"name\":\"app1\",\"key\":\"sk-...\"}}]}}.");
            }

            if (keys.IndexOf(null) is var missing and >= 0)
            {
                return ([], $"{setting} '{path}' is not valid: keys[{missing}] is null.");
            }

            return ([.. keys.OfType<ApiKeyEntry>()], null);
        }
        catch (JsonException ex)
        {
            // Its message names the place (Path: $.keys[0].key | LineNumber: 3 ...), and of the text there one character at most.
            return ([], $"{setting} '{path}' is not valid JSON: {ex.Message}");
        }
    }
}
