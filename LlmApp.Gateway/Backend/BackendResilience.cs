using System.Net;
using LlmApp.Gateway.Resilience;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Backend;

internal static class BackendResilience
{
    /// <summary>
    /// A backend with its own Polly v8 pipeline: retries with jittered exponential backoff, then a circuit breaker.
    /// The pipeline wraps a call up to its response headers only: the body is streamed afterwards, so a retry can
    /// never happen once the client has a byte. POST is exactly what may be retried here: a request that got no
    /// response headers (refused, reset) or a 503 (model loading) generated nothing.
    /// </summary>
    public static ModelBackend Create(string name, string operation, BackendOptions options, ResilienceOptions resilience, int? capacity = null)
    {
        var circuitState = new CircuitBreakerStateProvider();
        var circuitControl = new CircuitBreakerManualControl();
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(resilience.MaxRetries, 1),
                ShouldHandle = args => ValueTask.FromResult(resilience.MaxRetries > 0 && IsTransient(args.Outcome)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = resilience.RetryDelay,
                ShouldRetryAfterHeader = true,
            })
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                ManualControl = circuitControl,
                StateProvider = circuitState,
                // Open after a run of failures to reach the backend; while open, callers get 503 at once.
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = resilience.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            })
            .Build();

        return new ModelBackend(name, operation, options, capacity ?? resilience.MaxConcurrentRequests, pipeline, circuitState, circuitControl);
    }

    /// <summary>Failures that say the backend is unreachable or not ready yet, as opposed to a bad request.</summary>
    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Result.StatusCode: HttpStatusCode.ServiceUnavailable } => true,
        _ => false,
    };
}
