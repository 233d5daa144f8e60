using System.ClientModel;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Two real llama-servers serving the test model as replicas llm-1 and llm-2 behind a gateway process of their own
/// (with one API key, <see cref="Key"/>), for killing the one that serves a call: <see cref="KillServingAsync"/>.
/// </summary>
public sealed class ReplicaPair : IAsyncDisposable
{
    public const string Key = "resume-test-key-0123456789abcdef";
    public const string Model = "tiny";

    // As the AppHost runs it: the test model's own chat template, two slots; one thread each, so a kill lands mid-answer.
    public static readonly string[] ServerArguments = ["--parallel", "2", "--threads", "1", "--ctx-size", "8192", "--no-jinja"];

    private readonly HttpClient _probe = new();

    private ReplicaPair(LlamaServerProcess?[] replicas, GatewayProcess gateway)
    {
        Replicas = replicas;
        Gateway = gateway;
    }

    /// <summary>The replicas; a killed one is null until <see cref="RestartAsync"/>.</summary>
    public LlamaServerProcess?[] Replicas { get; }

    public GatewayProcess Gateway { get; }

    /// <summary>The official OpenAI SDK's chat client at the gateway, with the key.</summary>
    public ChatClient Chat => new(Model, new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.Address, "v1") });

    // The openai kind (vLLM's) as the tests run it: llama-server with a Jinja template, which, like vLLM, continues a final
    // assistant message when asked (continue_final_message); its capacity is a setting.
    public static readonly string[] OpenAIKindArguments = ["--parallel", "2", "--threads", "1", "--ctx-size", "8192", "--jinja"];

    public static Task<ReplicaPair> StartAsync(int replicas = 2, params (string Name, string Value)[] settings) =>
        LaunchAsync(ServerArguments, replicas, settings);

    /// <summary>Two replicas of the openai kind: the continuation goes as a chat call with <c>continue_final_message</c>.</summary>
    public static Task<ReplicaPair> StartOpenAIKindAsync() =>
        LaunchAsync(OpenAIKindArguments, 2, [("Backend__Kind", "openai"), ("Resilience__MaxConcurrentRequests", "2")]);

    private static async Task<ReplicaPair> LaunchAsync(string[] arguments, int replicas, (string Name, string Value)[] settings)
    {
        var servers = new LlamaServerProcess?[replicas];
        for (var i = 0; i < replicas; i++)
        {
            servers[i] = await LlamaServerProcess.StartAsync(arguments, CancellationToken.None);
        }

        var all = new Dictionary<string, string>
        {
            ["Backend__Model"] = Model,
            ["Auth__Keys__0__Name"] = "app",
            ["Auth__Keys__0__Key"] = Key,
        };
        for (var i = 0; i < replicas; i++)
        {
            all[$"Backend__Backends__{i}__Name"] = $"llm-{i + 1}";
            all[$"Backend__Backends__{i}__Endpoint"] = servers[i]!.Address.ToString();
            all[$"Backend__Backends__{i}__ApiKey"] = servers[i]!.Key;
        }

        foreach (var (name, value) in settings)
        {
            all[name] = value;
        }

        return new ReplicaPair(servers, await GatewayProcess.StartAsync(all));
    }

    /// <summary>Kills the replica generating an answer now, by its process id, once one is; returns which it was.</summary>
    public async Task<(int Index, LlamaServerProcess Killed)> KillServingAsync(TimeSpan within)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < within)
        {
            for (var i = 0; i < Replicas.Length; i++)
            {
                if (Replicas[i] is { } replica && await IsProcessingAsync(replica))
                {
                    Process.GetProcessById(replica.ProcessId).Kill();
                    await replica.DisposeAsync();
                    Replicas[i] = null;
                    return (i, replica);
                }
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"No replica was generating within {within}.");
    }

    /// <summary>Starts killed replica <paramref name="index"/> again on its port, as a crashed server is restarted.</summary>
    public async Task RestartAsync(int index, LlamaServerProcess killed) =>
        Replicas[index] = await LlamaServerProcess.StartAsync(ServerArguments, CancellationToken.None, restartOf: killed);

    /// <summary>The gateway's request log line that <paramref name="match"/> picks, once written.</summary>
    public async Task<string> LogLineAsync(Func<string, bool> match)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (Gateway.Output.FirstOrDefault(l => l.Contains(" status=", StringComparison.Ordinal) && match(l)) is { } line)
            {
                return line;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("The gateway wrote no such request log line:\n" + string.Join("\n", Gateway.Output.TakeLast(20)));
            }

            await Task.Delay(20);
        }
    }

    private async Task<bool> IsProcessingAsync(LlamaServerProcess replica)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(replica.Address, "/slots"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", replica.Key);
        try
        {
            using var response = await _probe.SendAsync(request);
            using var slots = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return slots.RootElement.EnumerateArray().Any(s => s.GetProperty("is_processing").GetBoolean());
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _probe.Dispose();
        await Gateway.DisposeAsync();
        foreach (var replica in Replicas)
        {
            if (replica is not null)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
