using System.Text.Json;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// An AppHost of its own with API keys on: <c>Llm:ApiKey</c> (the key named <c>default</c>) and a keys file that tests
/// rewrite while the stack runs, so that other tests keep an open gateway and never see these keys change.
/// </summary>
public sealed class ApiKeyAppFixture : GatewayAppFixture
{
    public const string FileKeyName = "app1";
    public const string DisabledKeyName = "retired";

    private readonly string _directory = TestPaths.NewScratchDirectory();

    public ApiKeyAppFixture()
    {
        KeysFile = Path.Combine(_directory, "keys.json");
        WriteKeysFile(InitialFileKeys);
    }

    /// <summary>Random for each run, so that a search of logs and metrics for them cannot match anything else.</summary>
    public string DefaultKey { get; } = NewKey();

    public string FileKey { get; } = NewKey();

    public string DisabledKey { get; } = NewKey();

    public string KeysFile { get; }

    /// <summary>What the keys file holds at start, and what a test that changed it puts back.</summary>
    public (string Name, string Key, bool Enabled)[] InitialFileKeys => [(FileKeyName, FileKey, true), (DisabledKeyName, DisabledKey, false)];

    protected override IEnumerable<string> AppHostArguments =>
        ["--Llm:Prometheus:Enabled=false", $"--Llm:ApiKey={DefaultKey}", $"--Llm:ApiKeysFile={KeysFile}"];

    public static string NewKey() => $"sk-llmapp-{Guid.NewGuid():N}";

    /// <summary>Replaces the keys file in one rename, as an editor or a deployment tool does, so the gateway never reads half a file.</summary>
    public void WriteKeysFile((string Name, string Key, bool Enabled)[] keys) =>
        WriteKeysFileText(JsonSerializer.Serialize(new { keys = keys.Select(k => new { name = k.Name, key = k.Key, requestsPerMinute = 60, enabled = k.Enabled }) }));

    public void WriteKeysFileText(string text)
    {
        var staging = KeysFile + ".new";
        File.WriteAllText(staging, text);
        File.Move(staging, KeysFile, overwrite: true);
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? key) =>
        new(method, path) { Headers = { Authorization = key is null ? null : new("Bearer", key) } };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ApiKeyAppCollectionDefinition : ICollectionFixture<ApiKeyAppFixture>
{
    public const string Name = "api key app";
}
