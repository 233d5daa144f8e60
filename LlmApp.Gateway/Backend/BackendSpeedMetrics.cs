using System.Diagnostics.Metrics;

namespace LlmApp.Gateway.Backend;

/// <summary>Each backend's learned <see cref="BackendSpeed"/> on <c>/metrics</c>: prefill rate, and decode rate by streams running together.</summary>
internal static class BackendSpeedMetrics
{
    public static void Publish(Meter meter, BackendPool pool)
    {
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(pool);
        meter.CreateObservableGauge("llmapp.backend.prefill.rate", () => pool.All
                .Where(b => b.Speed.PrefillRate > 0)
                .Select(b => new Measurement<double>(b.Speed.PrefillRate, new KeyValuePair<string, object?>("llmapp.backend", b.Name))),
            "{token}/s", "Prompt tokens each backend reads a second, a moving average of its calls, by llmapp.backend.");
        meter.CreateObservableGauge("llmapp.backend.decode.rate", () => pool.All
                .SelectMany(b => b.Speed.DecodeRates().Select(r => new Measurement<double>(r.Rate,
                    new KeyValuePair<string, object?>("llmapp.backend", b.Name), new KeyValuePair<string, object?>("llmapp.streams", r.Streams)))),
            "{token}/s", "Tokens a second each stream decodes, a moving average of its calls, by llmapp.backend and streams running together (llmapp.streams).");
    }
}
