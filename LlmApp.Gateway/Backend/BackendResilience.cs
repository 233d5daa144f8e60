using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Backend;

internal static class BackendResilience
{
    /// <summary>
    /// A backend's Polly v8 pipeline: retries with jittered exponential backoff, then a circuit breaker. The pipeline
    /// wraps a call up to its response headers only: the body is streamed afterwards, so a retry can never happen once
    /// the client has a byte. Only what generated nothing is sent again: a connection that could not be made, or a 503
    /// (model loading). A connection lost before the headers is not: an answer that does not stream gets its headers
    /// only once it is generated, so the backend may have worked on it all along.
    /// </summary>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceOptions resilience, BackendCircuit circuit)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(resilience);
        ArgumentNullException.ThrowIfNull(circuit);
        pipeline
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(resilience.MaxRetries, 1),
                ShouldHandle = args => ValueTask.FromResult(resilience.MaxRetries > 0 && NothingWasDone(args.Outcome)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = resilience.RetryDelay,
                ShouldRetryAfterHeader = true,
            })
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                ManualControl = circuit.Control,
                StateProvider = circuit.State,
                // Open after a run of failures to reach the backend; while open, callers get 503 at once.
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = resilience.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsBackendFailure(args.Outcome)),
            });
    }

    /// <summary>
    /// A backend with a pipeline of its own, outside the registry (and so without its telemetry): for tests of
    /// admission and routing, which never send through it.
    /// </summary>
    public static ModelBackend Create(string name, string operation, BackendOptions options, ResilienceOptions resilience, int? capacity = null)
    {
        var circuit = new BackendCircuit();
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        Configure(pipeline, resilience, circuit);
        return new ModelBackend(name, operation, options, capacity ?? resilience.MaxConcurrentRequests, pipeline.Build(), circuit);
    }

    /// <summary>Failures that say the backend is unreachable, broken or not ready yet, as opposed to a bad request.</summary>
    private static bool IsBackendFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Result.StatusCode: HttpStatusCode.ServiceUnavailable } => true,
        _ => false,
    };

    /// <summary>Failures after which the backend surely did nothing with the request: it was never connected to, or it said it is not ready.</summary>
    private static bool NothingWasDone(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException failed } => IsNotConnected(failed),
        { Result.StatusCode: HttpStatusCode.ServiceUnavailable } => true,
        _ => false,
    };

    /// <summary>A connection to the backend that could not be made at all: nothing was sent on it.</summary>
    internal static bool IsNotConnected(HttpRequestException failure) => failure.HttpRequestError is HttpRequestError.ConnectionError
        or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;
}
