using System.Diagnostics.Metrics;
using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// Admission with objectives, on its own, with a clock the test moves and a backend whose speed the test teaches it
/// (as its calls would): 1,000 tokens a second for one stream, 1,000-token answers, so that a call holds its slot 1 s.
/// </summary>
public sealed class SloAdmissionControlTests : IDisposable
{
    private static readonly TimeSpan s_realTimeLimit = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly TestLifetime _lifetime = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [Fact]
    public async Task ARequestPredictedToMissItsObjectiveIsRefusedAtOnceWithWhenToRetry()
    {
        var backend = Taught(slots: 1);
        using var admission = Create(backend);
        var holder = await admission.AdmitAsync(Chat(), CancellationToken.None);

        // The slot frees in about 1 s: a 300 ms objective cannot be met, a 3 s one can.
        var tight = await admission.AdmitAsync(Chat(objective: TimeSpan.FromMilliseconds(300)), CancellationToken.None);
        var loose = admission.AdmitAsync(Chat(objective: TimeSpan.FromSeconds(3)), CancellationToken.None);

        Assert.True(holder.IsAdmitted);
        Assert.Equal(AdmissionOutcome.TtftObjective, tight.Outcome);
        Assert.InRange(tight.RetryAfter!.Value, TimeSpan.FromSeconds(0.6), TimeSpan.FromSeconds(1.5));
        Assert.False(loose.IsCompleted);
        holder.Lease!.Dispose();
        var admitted = await loose.WaitAsync(s_realTimeLimit);
        Assert.True(admitted.IsAdmitted);
        // Its prediction, made as it asked: the holder's second, then its own prompt.
        Assert.InRange(admitted.Lease!.PredictedFirstToken, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(1.2));
    }

    [Fact]
    public async Task AQueuedRequestLeavesWhenItsWaitCanNoLongerEndInTime()
    {
        var backend = Taught(slots: 1);
        using var admission = Create(backend);
        var holder = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = admission.AdmitAsync(Chat(objective: TimeSpan.FromSeconds(2)), CancellationToken.None);

        // The holder runs past its expected end and keeps the slot: the waiter's objective runs out in the queue.
        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.6));
        var refused = await waiting.WaitAsync(s_realTimeLimit);

        Assert.Equal(AdmissionOutcome.TtftObjective, refused.Outcome);
        Assert.NotNull(refused.RetryAfter);
        Assert.Equal(0, admission.Queued);
        holder.Lease!.Dispose();
    }

    [Fact]
    public async Task WithoutAnObjectiveNothingIsRefusedThatTodayIsNot()
    {
        var backend = Taught(slots: 1);
        using var admission = Create(backend);
        var holder = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = admission.AdmitAsync(Chat(), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);
        holder.Lease!.Dispose();
        Assert.True((await waiting.WaitAsync(s_realTimeLimit)).IsAdmitted);
    }

    [Fact]
    public async Task AnObjectiveWithNoBackendUpIsRefusedAsUnavailable()
    {
        var backend = Taught(slots: 1);
        backend.SetHealthy(false);
        using var admission = Create(backend);

        var refused = await admission.AdmitAsync(Chat(objective: TimeSpan.FromSeconds(1)), CancellationToken.None);

        Assert.Equal(AdmissionOutcome.NoBackend, refused.Outcome);
    }

    [Fact]
    public async Task TheDecodeRateFloorKeepsStreamsUnderWhatWouldSlowThemAndRefusalsNameIt()
    {
        // Two slots, but two streams decode at 400 tokens a second each, under a floor of 600: one stream at a time.
        var backend = Taught(slots: 2);
        backend.Speed.Record(new BackendSample(16, 0.002, 0.003, 800, 2.0, Streams: 2, 16, 64, 800));
        using var admission = Create(backend, minTokensPerSecond: 600, queueLimit: 0);

        var first = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var second = await admission.AdmitAsync(Chat(), CancellationToken.None);

        Assert.True(first.IsAdmitted);
        Assert.Equal(AdmissionOutcome.QueueFull, second.Outcome);
        Assert.Contains("Slo:MinTokensPerSecond", second.Detail, StringComparison.Ordinal);
        Assert.Contains("llm to 1 of its 2 slots", second.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ThePrefillFitSeparatesAFixedCostFromTheRate()
    {
        // 5 ms a call and 2,000 tokens a second: a 10-token prompt's time is mostly the fixed cost.
        var fit = new PrefillFit();
        foreach (var tokens in new[] { 10, 400, 50, 1000, 200, 10, 700 })
        {
            fit.Add(tokens, 0.005 + (tokens / 2000.0));
        }

        Assert.InRange(fit.Rate, 1900, 2100);
        Assert.InRange(fit.Seconds(2000), 0.99, 1.02);
        Assert.InRange(fit.Seconds(10), 0.009, 0.011);
    }

    [Fact]
    public void FromABackendWithoutTimingsItsSpeedIsLearnedFromUsageAndTheGatewaysClocks()
    {
        // vLLM sends usage and no timings: the prefill is the time to the first token, the decode the time after it.
        var backend = BackendResilience.Create("vllm", Operations.Chat, new BackendOptions { Name = "vllm", Endpoint = new Uri("http://127.0.0.1:1"), Model = "m" },
            new ResilienceOptions { MaxConcurrentRequests = 4 });
        for (var call = 0; call < 3; call++)
        {
            var watch = new SpeedWatch(backend, System.Diagnostics.Stopwatch.GetTimestamp());
            Thread.Sleep(5);
            watch.FirstTokenCame();
            Thread.Sleep(20);
            watch.UsageSeen(new BackendUsage(PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150, CachedTokens: 0));
            watch.Ended([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, new string('a', 400))]);
        }

        // 49 tokens in at least 20 ms; 100 prompt tokens in at least 5 ms; 400 characters for 100 tokens.
        Assert.InRange(backend.Speed.DecodeRate(1), 1, 49 / 0.020);
        Assert.InRange(backend.Speed.PrefillRate, 1, 100 / 0.005);
        Assert.Equal(4, backend.Speed.CharsPerToken, precision: 3);
        Assert.Equal(50, backend.Speed.OutputTokens, precision: 3);
    }

    public void Dispose()
    {
        _lifetime.Dispose();
        _services.Dispose();
    }

    /// <summary>A backend that has served three calls: 16-token prompts in 2 ms, 1,000 tokens at 1,000 a second.</summary>
    private static ModelBackend Taught(int slots)
    {
        var backend = BackendResilience.Create("llm", Operations.Chat, new BackendOptions { Name = "llm", Endpoint = new Uri("http://127.0.0.1:1"), Model = "tiny" },
            new ResilienceOptions { MaxConcurrentRequests = slots });
        backend.SetHealthy(true);
        for (var i = 0; i < 3; i++)
        {
            backend.Speed.Record(new BackendSample(16, 0.002, 0.003, 1000, 1.0, Streams: 1, 16, 64, 1000));
        }

        return backend;
    }

    private static AdmissionRequest Chat(TimeSpan? objective = null) =>
        new(Operations.Chat, "", TimeSpan.FromSeconds(30)) { Objective = objective, PromptChars = 64, MaxOutputTokens = 1000 };

    private AdmissionControl Create(ModelBackend backend, double? minTokensPerSecond = null, int queueLimit = 8) =>
        new(new BackendPool([backend]), Options.Create(new ResilienceOptions { QueueLimit = queueLimit }), _lifetime,
            _services.GetRequiredService<IMeterFactory>(), _time, slo: Options.Create(new SloOptions { MinTokensPerSecond = minTokensPerSecond }));
}
