using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Settings;
using Microsoft.Extensions.Configuration;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A real llama-server, found or built as the AppHost does, serving the test model on a free localhost port with a key
/// of its own and the arguments a test gives it (<c>--jinja</c>, say); killed when disposed.
/// </summary>
public sealed class LlamaServerProcess : IAsyncDisposable
{
    private readonly ServiceProcess _process;

    private LlamaServerProcess(ServiceProcess process, Uri address, string key)
    {
        _process = process;
        Address = address;
        Key = key;
    }

    public Uri Address { get; }

    public int ProcessId => _process.ProcessId;

    /// <summary>The key it requires on everything but <c>/health</c>.</summary>
    public string Key { get; }

    /// <summary>
    /// Starts one; with <paramref name="restartOf"/>, on that one's port and key, as a crashed server comes back.
    /// </summary>
    public static async Task<LlamaServerProcess> StartAsync(IEnumerable<string> arguments, CancellationToken cancellationToken, LlamaServerProcess? restartOf = null)
    {
        var settings = LlmSettings.From(new ConfigurationBuilder().AddEnvironmentVariables().Build());
        var binary = await LlamaServerLocator.LocateAsync(settings, cancellationToken);
        var address = restartOf?.Address ?? new Uri($"http://127.0.0.1:{LocalPorts.Free()}");
        var key = restartOf?.Key ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var startInfo = new ProcessStartInfo(binary);
        foreach (var argument in (string[])["--model", TestPaths.TestModel, "--host", "127.0.0.1", "--port", address.Port.ToString(CultureInfo.InvariantCulture),
                     "--api-key", key, "--no-ui", .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = await ServiceProcess.StartAsync(startInfo, new Uri(address, "/health"), "llama-server", cancellationToken);
        return new LlamaServerProcess(process, address, key);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
