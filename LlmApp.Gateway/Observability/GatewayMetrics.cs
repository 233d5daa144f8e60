using System.Diagnostics.Metrics;

namespace LlmApp.Gateway.Observability;

/// <summary>
/// The gateway's own metrics. The <c>gen_ai.server.*</c> histograms follow the OpenTelemetry GenAI semantic
/// conventions, bucket boundaries included: Microsoft.Extensions.AI records only client-side metrics, and
/// llama-server has counters and gauges but no latency histograms. Labels stay bounded: model, operation, backend,
/// stream or not, token type, error type; never a user, a key or a prompt. Admission publishes its own queue length
/// and refusals on the same meter, and the API keys monitor its reload failures.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "LlmApp.Gateway";

    // Bucket boundaries from the GenAI semantic conventions, plus the SLO's thresholds (TTFT 0.3 s; 30 tok/s is 0.033 s a
    // token), so that the alert rules in containers/prometheus/alerts.yml judge them exactly, not by interpolation.
    private static readonly double[] s_timeToFirstToken = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] s_timePerOutputToken = [0.01, 0.025, 0.033, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
    private static readonly double[] s_requestDuration = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] s_predictionRatio = [0.25, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 4.0];
    private static readonly long[] s_tokenUsage = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        TimeToFirstToken = meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s",
            "Time from the request's arrival to its first output token.", tags: null, advice: new() { HistogramBucketBoundaries = s_timeToFirstToken });
        TimePerOutputToken = meter.CreateHistogram<double>("gen_ai.server.time_per_output_token", "s",
            "Time per output token after the first.", tags: null, advice: new() { HistogramBucketBoundaries = s_timePerOutputToken });
        RequestDuration = meter.CreateHistogram<double>("gen_ai.server.request.duration", "s",
            "Time from the request's arrival to its last byte.", tags: null, advice: new() { HistogramBucketBoundaries = s_requestDuration });
        TokenUsage = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}",
            "Tokens per request, by gen_ai.token.type (input or output).", tags: null, advice: new() { HistogramBucketBoundaries = s_tokenUsage });
        TimeToFirstTokenPrediction = meter.CreateHistogram<double>("llmapp.ttft.prediction.ratio", "1",
            "Time to first token as admission predicted it when the request asked for a slot, divided by the time measured: above 1 it refuses too soon, below 1 it admits what misses.",
            tags: null, advice: new() { HistogramBucketBoundaries = s_predictionRatio });
        ActiveRequests = meter.CreateUpDownCounter<long>("llmapp.requests.active", "{request}", "Generations running on the backend now.");
        UpstreamErrors = meter.CreateCounter<long>("llmapp.upstream.errors", "{error}", "Failed or timed-out backend calls, by error.type.");
        PromptTokens = meter.CreateCounter<long>("llmapp.backend.prompt_tokens", "{token}", "Prompt tokens each backend was sent, by llmapp.backend.");
        CachedPromptTokens = meter.CreateCounter<long>("llmapp.backend.cached_prompt_tokens", "{token}",
            "Prompt tokens each backend served from its prompt cache instead of reading them again, by llmapp.backend.");
        Failovers = meter.CreateCounter<long>("llmapp.backend.failovers", "{request}",
            "Calls moved to another replica because theirs failed before the first byte, by the replica they left (llmapp.backend).");
        Resumes = meter.CreateCounter<long>("llmapp.resumes", "{answer}",
            "Answers cut by their backend after output began and continued on a healthy replica, by the replica that cut them (llmapp.backend) and why (llmapp.resume.cause).");
        ResumePromptTokens = meter.CreateCounter<long>("llmapp.resume.prompt_tokens", "{token}",
            "Prompt tokens sent to continue cut answers (the original prompt plus the text already sent): the gateway's own cost, not counted to any key.");
        Meter = meter;
    }

    public Meter Meter { get; }

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<double> TimePerOutputToken { get; }

    public Histogram<double> RequestDuration { get; }

    public Histogram<long> TokenUsage { get; }

    public Histogram<double> TimeToFirstTokenPrediction { get; }

    public UpDownCounter<long> ActiveRequests { get; }

    public Counter<long> UpstreamErrors { get; }

    public Counter<long> PromptTokens { get; }

    public Counter<long> CachedPromptTokens { get; }

    public Counter<long> Failovers { get; }

    public Counter<long> Resumes { get; }

    public Counter<long> ResumePromptTokens { get; }
}
