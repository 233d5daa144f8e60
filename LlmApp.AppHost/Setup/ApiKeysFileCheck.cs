using LlmApp.ApiKeys;
using LlmApp.Models;

namespace LlmApp.AppHost.Setup;

/// <summary>
/// Checks <c>Llm:ApiKeysFile</c> before anything starts, so that a typo in its path or its JSON is one line from the
/// AppHost rather than a gateway that will not start. It is the gateway's own reading of the file (LlmApp.ApiKeys), so
/// the two cannot disagree on what a valid file is.
/// </summary>
public static class ApiKeysFileCheck
{
    private const string Setting = "Llm:ApiKeysFile";

    /// <summary>The file's absolute path, once it holds a <c>keys</c> list of named, non-empty, uniquely named keys with valid limits.</summary>
    public static string Check(string path)
    {
        var problems = ApiKeyLoader.Load([], path, Setting).Problems;
        return problems.Count == 0 ? Path.GetFullPath(path) : throw new SetupException(string.Join(" ", problems));
    }
}
