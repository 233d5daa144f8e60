using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Streaming;

/// <summary>How SSE streams behave; bound from the <c>Streaming</c> section.</summary>
public sealed class StreamingOptions
{
    public const string SectionName = "Streaming";

    /// <summary>
    /// How long a stream may stay silent (a long prompt being read) before the gateway sends an SSE comment, so
    /// that proxies and clients with read timeouts do not give up on it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);
}
