using System.Diagnostics;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// The built gateway started on its own (<c>dotnet LlmApp.Gateway.dll</c>) with the settings a test gives it, in
/// front of a backend the test chooses, on a free localhost port; killed when disposed.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly ServiceProcess _process;

    private GatewayProcess(ServiceProcess process, Uri address)
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
        };
        startInfo.ArgumentList.Add(ProjectProcess.Assembly("LlmApp.Gateway"));
        startInfo.Environment["ASPNETCORE_URLS"] = address.ToString();
        foreach (var (name, value) in settings)
        {
            startInfo.Environment[name] = value;
        }

        return new GatewayProcess(await ServiceProcess.StartAsync(startInfo, new Uri(address, "/readyz"), "The gateway"), address);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
    }
}
