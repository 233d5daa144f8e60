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
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public HttpClient Client { get; }

    public Uri Address { get; }

    /// <summary>What the gateway has printed so far, a line each.</summary>
    public IReadOnlyCollection<string> Output => _process.Output;

    /// <summary>
    /// Starts the gateway and waits until <paramref name="readyPath"/> answers 200: <c>/readyz</c> (its backend answers
    /// too) by default, <c>/healthz</c> for a test that never reaches the backend.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(IDictionary<string, string> settings, string readyPath = "/readyz")
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

        return new GatewayProcess(await ServiceProcess.StartAsync(startInfo, new Uri(address, readyPath), "The gateway"), address);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
    }
}
