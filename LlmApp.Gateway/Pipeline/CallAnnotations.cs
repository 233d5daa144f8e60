using System.Collections;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// How the layer that routes a call says where it went, on what the call returns: the first update of a stream, the
/// answer, or the exception it threw. The telemetry layer above reads it into the <see cref="CallRecord"/>.
/// </summary>
public static class CallAnnotations
{
    private const string BackendKey = "llmapp.backend";
    private const string FailoversKey = "llmapp.failovers";
    private const string PredictedKey = "llmapp.predicted_ttft";

    public static void Annotate(AdditionalPropertiesDictionary properties, string backend, int failovers, TimeSpan? predictedFirstToken = null)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[BackendKey] = backend;
        properties[FailoversKey] = failovers;
        if (predictedFirstToken is { } predicted)
        {
            properties[PredictedKey] = predicted;
        }
    }

    /// <summary>The time to first token admission predicted for the call when it asked for a slot, from its arrival; null if none said.</summary>
    public static TimeSpan? PredictedFirstToken(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(PredictedKey, out TimeSpan predicted) ? predicted : null;

    public static void Annotate(Exception exception, string backend, int failovers)
    {
        ArgumentNullException.ThrowIfNull(exception);
        exception.Data[BackendKey] = backend;
        exception.Data[FailoversKey] = failovers;
    }

    public static (string? Backend, int Failovers) Read(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(BackendKey, out string? backend)
            ? (backend, properties.TryGetValue(FailoversKey, out int failovers) ? failovers : 0)
            : (null, 0);

    public static (string? Backend, int Failovers) Read(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current.Data is IDictionary data && data[BackendKey] is string backend)
            {
                return (backend, data[FailoversKey] as int? ?? 0);
            }
        }

        return (null, 0);
    }
}
