using System.Globalization;

namespace Aspire.Hosting;

public static class GatewayBuilderExtensions
{
    /// <summary>The gateway's readiness endpoint (ServiceDefaults maps it); it fails while the backend is down.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>
    /// Serves the gateway's OpenAI API on a fixed localhost port (8000 by default), so clients keep one base URL,
    /// <c>http://localhost:8000/v1</c>, across restarts. Port 0 lets Aspire pick a free one (as tests do).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithGatewayPort(this IResourceBuilder<ProjectResource> gateway, int port)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        return gateway.WithEndpoint("http", endpoint =>
        {
            endpoint.Port = port > 0 ? port : null;
            // The gateway listens on the port itself. Through the orchestrator's proxy every token took another hop:
            // measured at 40 to 50 µs of CPU a token and 3 to 5 ms more to the first token (docs/performance.md).
            endpoint.IsProxied = false;
        });
    }

    /// <summary>The endpoint of the gateway's <c>/metrics</c>, apart from the API's.</summary>
    public const string ManagementEndpointName = "management";

    /// <summary>The port <c>/metrics</c> listens on in the gateway's container.</summary>
    public const int ManagementContainerPort = 9464;

    /// <summary>
    /// Serves the gateway's <c>/metrics</c> on a port of its own (<c>Management:Port</c>), so that the API's port can face
    /// a network while the metrics stay private: on localhost here, on the compose network in a deployment.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithManagementPort(this IResourceBuilder<ProjectResource> gateway, int port)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        gateway.WithHttpEndpoint(name: ManagementEndpointName, isProxied: false);
        var endpoint = gateway.GetEndpoint(ManagementEndpointName);
        gateway.WithEndpoint(ManagementEndpointName, annotation =>
        {
            annotation.Port = port > 0 ? port : null;
            annotation.TargetPort = gateway.ApplicationBuilder.ExecutionContext.IsPublishMode ? ManagementContainerPort : annotation.TargetPort;
        });
        return gateway.WithEnvironment("Management__Port", endpoint.Property(EndpointProperty.TargetPort));
    }

    /// <summary>
    /// The service level the gateway's admission keeps, when set: <c>Slo:TimeToFirstToken</c> (refusing at once what it
    /// predicts would miss it) and <c>Slo:MinTokensPerSecond</c> (no more streams than keep that decode rate).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithObjectives(this IResourceBuilder<ProjectResource> gateway, int? ttftMs, double? minTokensPerSecond)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        if (ttftMs is { } ms)
        {
            gateway.WithEnvironment("Slo__TimeToFirstToken", TimeSpan.FromMilliseconds(ms).ToString("c", CultureInfo.InvariantCulture));
        }

        if (minTokensPerSecond is { } floor)
        {
            gateway.WithEnvironment("Slo__MinTokensPerSecond", floor.ToString(CultureInfo.InvariantCulture));
        }

        return gateway;
    }

    /// <summary>
    /// Answers cut by a backend crash are continued (<c>Resilience:ResumeCutAnswers</c>): the gateway's default turns it
    /// on only with more than one replica, and here a lone backend comes back too, restarted after a crash (by
    /// <see cref="RestartOnCrashExtensions.WithRestartOnCrash"/> on this machine, by the restart policy in compose).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithResumedAnswers(this IResourceBuilder<ProjectResource> gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        return gateway.WithEnvironment("Resilience__ResumeCutAnswers", "true");
    }
}
