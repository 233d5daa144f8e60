using System.Diagnostics;
using System.Net;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// The built gateway started on its own (<c>dotnet LlmApp.Gateway.dll</c>) with the settings a test gives it, in
/// front of a backend the test chooses, on a free localhost port; killed when disposed.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, Uri address)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public HttpClient Client { get; }

    public static async Task<GatewayProcess> StartAsync(IDictionary<string, string> settings)
    {
        var address = new Uri($"http://127.0.0.1:{LocalPorts.Free()}");
        var startInfo = new ProcessStartInfo(ProjectProcess.DotnetHost())
        {
            WorkingDirectory = Path.GetDirectoryName(ProjectProcess.Assembly("LlmApp.Gateway"))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(ProjectProcess.Assembly("LlmApp.Gateway"));
        startInfo.Environment["ASPNETCORE_URLS"] = address.ToString();
        foreach (var (name, value) in settings)
        {
            startInfo.Environment[name] = value;
        }

        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, address);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var ready = await gateway.Client.GetAsync("/readyz");
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await gateway.DisposeAsync();
                throw new InvalidOperationException($"The gateway at {address} did not become ready.");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
