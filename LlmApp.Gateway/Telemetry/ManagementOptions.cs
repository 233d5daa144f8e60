using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Telemetry;

/// <summary>
/// The <c>Management</c> section: the port <c>/metrics</c> is served on, apart from the API, so that a deployment
/// publishes the API and keeps the metrics on its private network.
/// </summary>
public sealed class ManagementOptions
{
    public const string SectionName = "Management";

    /// <summary>The port of <c>/metrics</c>; the gateway must listen on it too (the AppHost adds it). 0: the API's port.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }
}
