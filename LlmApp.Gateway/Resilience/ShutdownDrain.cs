using Microsoft.Extensions.Options;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// Graceful shutdown: on SIGTERM admission stops (see <c>AdmissionControl</c>), in-flight generations keep
/// going for <c>Resilience:DrainTimeout</c>, and then <see cref="Expired"/> fires so that those still running end
/// with an error event instead of being cut off mid-word by the process exiting.
/// </summary>
public sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _expired = new();
    private readonly CancellationTokenRegistration _registration;

    public ShutdownDrain(IHostApplicationLifetime lifetime, IOptions<ResilienceOptions> options)
    {
        var drain = options.Value.DrainTimeout;
        _registration = lifetime.ApplicationStopping.Register(() => _expired.CancelAfter(drain));
    }

    public CancellationToken Expired => _expired.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _expired.Dispose();
    }
}
