using System.Diagnostics;
using LlmApp.AppHost.Containers;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Compose;

/// <summary>
/// The generated compose deployment, for real: the AppHost generates docker-compose.yml and .env, the images build from
/// the repository's Dockerfiles (the llama.cpp source and the .NET builds staged on the host, as a user does), and the
/// stack comes up with the shared tiny model mounted through LLMAPP_MODEL_FILE, its ports on 127.0.0.1 only.
/// When no Docker engine answers, <see cref="SkipReason"/> says why and the tests skip.
/// </summary>
public sealed class ComposeStackFixture : IAsyncLifetime
{
    public const string ServedModel = GatewayAppFixture.ServedModel;

    public static readonly string[] LongRunning = ["llm", "gateway", "prometheus"];

    public string? SkipReason { get; private set; }

    public DockerCompose Compose { get; private set; } = null!;

    public Uri Gateway { get; private set; } = null!;

    public Uri Prometheus { get; private set; } = null!;

    /// <summary>The key of LLMAPP_API_KEY, as an operator sets it on the server: the stack runs with keys on.</summary>
    public string ApiKey { get; } = "sk-compose-" + Guid.NewGuid().ToString("N");

    /// <summary>A named key from the keys file in the directory mounted through LLMAPP_API_KEYS_DIR.</summary>
    public string FileApiKey { get; } = "sk-file-" + Guid.NewGuid().ToString("N");

    /// <summary>A client of the published port that sends <see cref="ApiKey"/>.</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = Gateway, Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    /// <summary>The keys directory mounted through LLMAPP_API_KEYS_DIR; its keys.json holds <see cref="FileApiKey"/>.</summary>
    public string KeysDirectory { get; private set; } = "";

    private const UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Replaces keys.json as an editor does, by writing a new file and renaming it over the old one.</summary>
    public async Task WriteKeysAsync(string json)
    {
        var staging = Path.Combine(KeysDirectory, ".keys.json.new");
        await File.WriteAllTextAsync(staging, json);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(staging, ReadableByAll | UnixFileMode.UserWrite);
        }

        File.Move(staging, Path.Combine(KeysDirectory, "keys.json"), overwrite: true);
    }

    /// <summary>How long each phase took, for the test log (cold and warm builds differ by the llama.cpp compile).</summary>
    public List<string> Timings { get; } = [];

    public async Task InitializeAsync()
    {
        var (available, reason) = await DockerCompose.EngineAsync();
        if (!available)
        {
            SkipReason = reason;
            return;
        }

        var clock = Stopwatch.StartNew();
        await ContainerContexts.PrepareAsync(TestPaths.RepositoryRoot);
        Lap(clock, "staging the build contexts (llama.cpp source, dotnet publish of the gateway and the model tool)");

        var output = await ComposeGeneration.GenerateAsync();
        KeysDirectory = TestPaths.NewScratchDirectory();
        await WriteKeysAsync($$"""{"keys":[{"name":"file-app","key":"{{FileApiKey}}"}]}""");
        // Read inside the container by the gateway's user (uid 1654), as the README asks of an operator's keys directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(KeysDirectory, ReadableByAll | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
        int gatewayPort = LocalPorts.Free(), prometheusPort = LocalPorts.Free();
        Gateway = new Uri($"http://127.0.0.1:{gatewayPort}/");
        Prometheus = new Uri($"http://127.0.0.1:{prometheusPort}/");
        Compose = new DockerCompose("llmapp-compose-test", Path.Combine(output, "docker-compose.yml"), Path.Combine(output, ".env"),
            new Dictionary<string, string>
            {
                ["LLMAPP_MODEL_FILE"] = TestPaths.TestModel,
                ["LLMAPP_SERVED_MODEL"] = ServedModel,
                ["LLMAPP_GATEWAY_BIND"] = "127.0.0.1",
                ["LLMAPP_GATEWAY_PORT"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["LLMAPP_PROMETHEUS_PORT"] = prometheusPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["LLMAPP_GRAFANA_PORT"] = LocalPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["LLMAPP_API_KEY"] = ApiKey,
                ["LLMAPP_API_KEYS_DIR"] = KeysDirectory,
            });

        // What an earlier, interrupted run left behind.
        await Compose.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));

        clock.Restart();
        await Compose.RequireAsync(["build"], TimeSpan.FromMinutes(40));
        Lap(clock, "docker-compose build");

        await Compose.RequireAsync(["up", "--detach"], TimeSpan.FromMinutes(5));
        await Compose.WaitHealthyAsync(["llm-model", .. LongRunning], TimeSpan.FromMinutes(5));
        Lap(clock, "docker-compose up until every service is healthy");
    }

    public async Task DisposeAsync()
    {
        if (SkipReason is null && Compose is not null)
        {
            await Compose.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        }
    }

    private void Lap(Stopwatch clock, string phase)
    {
        Timings.Add($"{phase}: {clock.Elapsed.TotalSeconds:F0} s");
        clock.Restart();
    }
}

[CollectionDefinition(Name)]
public sealed class ComposeStackCollectionDefinition : ICollectionFixture<ComposeStackFixture>
{
    public const string Name = "compose stack";
}
