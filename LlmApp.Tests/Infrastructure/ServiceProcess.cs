using System.Diagnostics;
using System.Net;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A server process a test starts (the gateway, a llama-server): its output drained, ready once <c>GET</c> of its
/// readiness URL answers 200, and killed, with its children, when disposed.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;

    private ServiceProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    /// <summary>What the process printed, standard output and error, a line each, as it came.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    /// <summary>
    /// Starts <paramref name="startInfo"/> and waits until <paramref name="ready"/> answers 200; throws, having killed
    /// it, when it exits first or is not ready within a minute.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(ProcessStartInfo startInfo, Uri ready, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        var process = Process.Start(startInfo)!;
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, line) => Keep(service, line.Data);
        process.ErrorDataReceived += (_, line) => Keep(service, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(ready, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return service;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not listening yet, or too busy starting to answer within the probe's timeout.
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new InvalidOperationException($"{name} did not become ready at {ready}.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static void Keep(ServiceProcess service, string? line)
    {
        if (line is not null)
        {
            service.Output.Enqueue(line);
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
