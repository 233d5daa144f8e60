using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Setup;
using Microsoft.Extensions.Configuration;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A real llama-server, found or built as the AppHost does, serving the test model on a free localhost port with a key
/// of its own and the arguments a test gives it (<c>--jinja</c>, say); killed when disposed.
/// </summary>
public sealed class LlamaServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private LlamaServerProcess(Process process, Uri address, string key)
    {
        _process = process;
        Address = address;
        Key = key;
    }

    public Uri Address { get; }

    /// <summary>The key it requires on everything but <c>/health</c>.</summary>
    public string Key { get; }

    public static async Task<LlamaServerProcess> StartAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var settings = LlmSettings.From(new ConfigurationBuilder().AddEnvironmentVariables().Build());
        var binary = await LlamaServerLocator.LocateAsync(settings, cancellationToken);
        var port = LocalPorts.Free();
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--model", TestPaths.TestModel, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--api-key", key, "--no-webui", .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new LlamaServerProcess(process, new Uri($"http://127.0.0.1:{port}"), key);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var health = await http.GetAsync("/health", cancellationToken);
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not listening yet, or too busy loading to answer within the probe's timeout.
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"llama-server at {server.Address} did not become healthy.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
