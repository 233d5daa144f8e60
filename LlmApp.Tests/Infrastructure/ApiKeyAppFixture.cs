using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// An AppHost of its own with API keys on: <c>Llm:ApiKey</c> (the key named <c>default</c>) and a keys file that tests
/// rewrite while the stack runs, so that other tests keep an open gateway and never see these keys change.
/// </summary>
public sealed class ApiKeyAppFixture : GatewayAppFixture
{
    public const string FileKeyName = "app1";
    public const string DisabledKeyName = "retired";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

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

    /// <summary>Two requests a minute: the third of a burst is refused.</summary>
    public string BurstKey { get; } = NewKey();

    /// <summary>One request a minute each, for the .NET and the Node SDK to see 429 as their own error.</summary>
    public string SdkBurstKey { get; } = NewKey();

    public string NodeBurstKey { get; } = NewKey();

    /// <summary>6,000 tokens a minute (100 a second back), and requests counted too: every header is there.</summary>
    public string MeteredKey { get; } = NewKey();

    public const int MeteredTokensPerMinute = 6000;

    /// <summary>The same limits as <see cref="MeteredKey"/>, for the test that reads its budget to the token.</summary>
    public string SettledKey { get; } = NewKey();

    /// <summary>200 tokens a minute: a request with max_tokens 500 can never run.</summary>
    public string SmallKey { get; } = NewKey();

    /// <summary>100 tokens a minute, for the probe that tries to overrun it with requests that set no max_tokens.</summary>
    public string HundredKey { get; } = NewKey();

    /// <summary>One request a minute, for the test that sends a second whose body never comes.</summary>
    public string OneAMinuteKey { get; } = NewKey();

    /// <summary>One request at a time.</summary>
    public string SingleKey { get; } = NewKey();

    /// <summary>Two requests a minute, for the Messages and Responses APIs to refuse a third as the chat API does.</summary>
    public string OtherApisKey { get; } = NewKey();

    /// <summary>What the keys file holds at start, and what a test that changed it puts back.</summary>
    public FileKey[] InitialFileKeys =>
    [
        new(FileKeyName, FileKey, RequestsPerMinute: 600),
        new(DisabledKeyName, DisabledKey, Enabled: false),
        new("burst", BurstKey, RequestsPerMinute: 2),
        new("sdk-burst", SdkBurstKey, RequestsPerMinute: 1),
        new("node-burst", NodeBurstKey, RequestsPerMinute: 1),
        new("metered", MeteredKey, RequestsPerMinute: 1000, TokensPerMinute: MeteredTokensPerMinute),
        new("settled", SettledKey, TokensPerMinute: MeteredTokensPerMinute),
        new("small", SmallKey, TokensPerMinute: 200),
        new("single", SingleKey, MaxConcurrent: 1),
        new("hundred", HundredKey, TokensPerMinute: 100),
        new("one-a-minute", OneAMinuteKey, RequestsPerMinute: 1),
        new("other-apis", OtherApisKey, RequestsPerMinute: 2),
    ];

    /// <summary>
    /// Its tests send dozens of wrong keys from this one address, each expecting its 401; the throttle on wrong keys is
    /// tested on a gateway of its own (<c>EdgeHygieneTests</c>).
    /// The keys' prompts are kept apart in llama-server's cache (<c>PromptCacheIsolationTests</c>).
    /// </summary>
    protected override IEnumerable<(string Name, string Value)> GatewayEnvironment =>
        [.. base.GatewayEnvironment, ("Auth__MaxFailuresPerMinute", "100000"), ("Backend__PromptCacheIsolation", "PerKey")];

    protected override IEnumerable<string> AppHostArguments =>
        ["--Llm:Prometheus:Enabled=false", $"--Llm:ApiKey={DefaultKey}", $"--Llm:ApiKeysFile={KeysFile}"];

    public static string NewKey() => $"sk-llmapp-{Guid.NewGuid():N}";

    /// <summary>Replaces the keys file in one rename, as an editor or a deployment tool does, so the gateway never reads half a file.</summary>
    public void WriteKeysFile(FileKey[] keys) => WriteKeysFileText(JsonSerializer.Serialize(new { keys }, s_json));

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

/// <summary>One entry of the keys file, as a user writes it.</summary>
public sealed record FileKey(string Name, string Key, bool Enabled = true, int? RequestsPerMinute = null, int? TokensPerMinute = null, int? MaxConcurrent = null);

[CollectionDefinition(Name)]
public sealed class ApiKeyAppCollectionDefinition : ICollectionFixture<ApiKeyAppFixture>
{
    public const string Name = "api key app";
}
