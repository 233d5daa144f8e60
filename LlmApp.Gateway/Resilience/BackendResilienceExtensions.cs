using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Resilience;

internal static class BackendResilienceExtensions
{
    /// <summary>
    /// Retries and the circuit breaker around the backend's HTTP calls (Polly v8). They wrap the call up to the
    /// response headers only: the body is streamed later, so a retry can never happen after the client got a byte.
    /// </summary>
    public static IHttpClientBuilder AddBackendResilience(this IHttpClientBuilder builder)
    {
        builder.AddResilienceHandler("backend", static (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<ResilienceOptions>>().Value;

            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(options.MaxRetries, 1),
                ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && IsTransient(args.Outcome)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                // POST is exactly what is retried: nothing was generated for a request that got no response headers.
                ShouldRetryAfterHeader = true,
            });

            var circuit = context.ServiceProvider.GetRequiredService<BackendCircuit>();
            pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                ManualControl = circuit.Control,
                StateProvider = circuit.State,
                // Open after a run of failures to reach the backend; while open, callers get 503 at once.
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = options.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            });
        });

        return builder;
    }

    /// <summary>Failures that say the backend is unreachable or not ready yet, as opposed to a bad request.</summary>
    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Exception: TimeoutException } => true,
        { Result.StatusCode: HttpStatusCode.ServiceUnavailable } => true,
        _ => false,
    };

    /// <summary>The time left before an open circuit lets a request try the backend again.</summary>
    public static TimeSpan RetryAfter(this BrokenCircuitException exception) => exception.RetryAfter ?? TimeSpan.FromSeconds(1);
}
