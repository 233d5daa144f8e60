namespace LlmApp.AppHost.Settings;

/// <summary>The local Prometheus the AppHost runs when one is installed (<c>Llm:Prometheus</c>).</summary>
public sealed class PrometheusSettings
{
    /// <summary>Run Prometheus when a <c>prometheus</c> binary is found.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A <c>prometheus</c> binary to use instead of the one on PATH.</summary>
    public string? Path { get; set; }

    /// <summary>Port of its web UI and API on localhost (0: any free port).</summary>
    public int Port { get; set; } = 9090;

    /// <summary>How often it scrapes the gateway and llama-server.</summary>
    public TimeSpan ScrapeInterval { get; set; } = TimeSpan.FromSeconds(5);
}
