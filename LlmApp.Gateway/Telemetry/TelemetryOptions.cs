namespace LlmApp.Gateway.Telemetry;

/// <summary>Bound from the <c>Telemetry</c> section.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>
    /// Log prompt and completion text (and put it on gen_ai spans). Off by default: prompts of a voice bot are
    /// what its users said, and logs are kept and shipped far more widely than requests.
    /// </summary>
    public bool LogContent { get; set; }
}
