using System.Diagnostics.Metrics;
using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// What a failover before the first token does to the call's timers and figures, decided here: the first-token and
/// idle timers start again on the replica it moved to (it gets the whole first-token timeout to read the prompt),
/// while the total deadline and the time to first token count from the request's arrival (the client waited through
/// the failed attempt); the failover is counted against the replica that failed, and the call is recorded as the
/// answering replica's. The pipeline is the gateway's own, from the telemetry layer down to each replica's deadlines;
/// the replicas are scripted (what runs against real llama-servers is in <c>Replicas/ReplicaTests</c>).
/// </summary>
public sealed class FailoverTests : IDisposable
{
    private static readonly TimeSpan s_realTimeLimit = TimeSpan.FromSeconds(10);

    private static readonly ResilienceOptions s_resilience = new()
    {
        FirstTokenTimeout = TimeSpan.FromSeconds(2),
        IdleTimeout = TimeSpan.FromSeconds(2),
        TotalTimeoutBase = TimeSpan.FromSeconds(60),
        TotalTimeoutPerToken = TimeSpan.Zero,
        QueueLimit = 4,
    };

    private static readonly ResilienceOptions s_notResuming = new()
    {
        FirstTokenTimeout = s_resilience.FirstTokenTimeout,
        IdleTimeout = s_resilience.IdleTimeout,
        TotalTimeoutBase = s_resilience.TotalTimeoutBase,
        TotalTimeoutPerToken = s_resilience.TotalTimeoutPerToken,
        QueueLimit = s_resilience.QueueLimit,
        ResumeCutAnswers = false,
    };

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TestLifetime _lifetime = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<(string Instrument, double Value, string? Backend)> _measurements = [];
    private readonly MeterListener _listener = new();
    private readonly List<string> _causes = [];
    private readonly ScriptedChatClient[] _replicas = [new(), new()];
    private readonly ModelBackend[] _backends = [Replica("llm-1"), Replica("llm-2")];
    private readonly AdmissionControl _admission;
    private readonly GatewayTelemetryChatClient _pipeline;
    private readonly GatewayTelemetryChatClient _notResuming;

    public FailoverTests()
    {
        var meterFactory = _services.GetRequiredService<IMeterFactory>();
        var backends = _backends;
        _admission = new AdmissionControl(new BackendPool(backends), Options.Create(s_resilience), _lifetime, meterFactory, _time,
            Options.Create(new BackendOptions { Routing = BackendRouting.LeastLoaded }));
        var metrics = new GatewayMetrics(meterFactory);
        var perReplica = new Dictionary<ModelBackend, IChatClient>
        {
            [backends[0]] = new GenerationDeadlinesChatClient(_replicas[0], s_resilience, _time, CancellationToken.None),
            [backends[1]] = new GenerationDeadlinesChatClient(_replicas[1], s_resilience, _time, CancellationToken.None),
        };
        _pipeline = new GatewayTelemetryChatClient(
            new AdmissionChatClient(_admission, perReplica, metrics, s_resilience, _time, NullLogger.Instance), metrics, _time, NullLogger.Instance, logContent: false);
        _notResuming = new GatewayTelemetryChatClient(
            new AdmissionChatClient(_admission, perReplica, metrics, s_notResuming, _time, NullLogger.Instance), metrics, _time, NullLogger.Instance, logContent: false);

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meterFactory && instrument.Name is "llmapp.backend.failovers" or "gen_ai.server.time_to_first_token" or "llmapp.resumes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _listener.Start();
    }

    [Fact]
    public async Task AFailoverRestartsTheFirstTokenTimerButTheTimeToFirstTokenCountsFromArrival()
    {
        var record = new CallRecord("failover", _time.GetTimestamp());
        await using var updates = Start(record);
        var next = updates.MoveNextAsync().AsTask();

        // The first replica takes 1.5 s to say it is still loading its model: nothing was generated, so the call moves.
        var (failed, survivor) = await FirstCalledAsync();
        _time.Advance(TimeSpan.FromSeconds(1.5));
        failed.Fail(new BackendFailureException(BackendFault.Status, "Loading model", 503));
        await WaitUntilAsync(() => survivor.Called);

        // 3 s after arrival, past the 2 s first-token timeout had it counted from there: the survivor has had 1.5 s.
        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.False(next.IsCompleted, "the first-token timer did not start again on the replica the call moved to");
        survivor.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        survivor.Send(new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop, Contents = [new UsageContent(new() { InputTokenCount = 3, OutputTokenCount = 1 })] });
        survivor.End();
        while (await updates.MoveNextAsync())
        {
        }

        var survivorName = Array.IndexOf(_replicas, survivor) == 0 ? "llm-1" : "llm-2";
        var failedName = survivorName == "llm-1" ? "llm-2" : "llm-1";
        Assert.Equal(survivorName, record.Backend);
        Assert.Equal(1, record.Failovers);
        Assert.Equal(TimeSpan.FromSeconds(3), record.TimeToFirstToken);
        Assert.Null(record.Error);
        Assert.Equal([("llmapp.backend.failovers", 1, failedName)], _measurements.Where(m => m.Instrument == "llmapp.backend.failovers"));
        Assert.Equal(3.0, Assert.Single(_measurements, m => m.Instrument == "gen_ai.server.time_to_first_token").Value);
        Assert.Equal(0, _admission.Busy(Backend(failedName)) + _admission.Busy(Backend(survivorName)));
    }

    [Fact]
    public async Task TheReplicaMovedToStillGetsNoMoreThanTheFirstTokenTimeout()
    {
        var record = new CallRecord("failover-stalls", _time.GetTimestamp());
        await using var updates = Start(record);
        var next = updates.MoveNextAsync().AsTask();

        var (failed, survivor) = await FirstCalledAsync();
        failed.Fail(new HttpRequestException(HttpRequestError.ConnectionError));
        await WaitUntilAsync(() => survivor.Called);
        _time.Advance(TimeSpan.FromSeconds(2.1));

        var timeout = await Assert.ThrowsAsync<GenerationTimeoutException>(() => next.WaitAsync(s_realTimeLimit));
        Assert.Equal(GenerationTimeout.FirstToken, timeout.Timeout);
        Assert.Equal(1, record.Failovers);
        Assert.Equal("timeout_first_token", record.Error);
        Assert.NotNull(record.Backend);
    }

    [Fact]
    public async Task AFailureAfterTheFirstTokenIsContinuedOnTheOtherFromTheTextSentAsOneAnswer()
    {
        var record = new CallRecord("resumed", _time.GetTimestamp());
        await using var updates = Start(record, maxTokens: 10);
        var next = updates.MoveNextAsync().AsTask();

        var (first, other) = await FirstCalledAsync();
        first.Send(new ChatResponseUpdate(ChatRole.Assistant, "Hello"));
        first.Send(new ChatResponseUpdate(ChatRole.Assistant, " wor"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        Assert.True(await updates.MoveNextAsync().AsTask().WaitAsync(s_realTimeLimit));
        first.Fail(new HttpIOException(HttpRequestError.ResponseEnded));
        next = updates.MoveNextAsync().AsTask();
        await WaitUntilAsync(() => other.Called);

        // The other is asked to go on from the text sent, for what is left of max_tokens; its deadline stays the request's.
        var (messages, options) = other.Call;
        Assert.Equal([ChatRole.User, ChatRole.Assistant], messages.Select(m => m.Role));
        Assert.Equal("Hello wor", messages[^1].Text);
        var continued = Assert.IsType<GatewayChatOptions>(options);
        Assert.True(continued.ContinuesFinalMessage);
        Assert.Equal(8, continued.MaxOutputTokens);
        Assert.Equal(10, continued.DeadlineMaxOutputTokens());

        other.Send(new ChatResponseUpdate(ChatRole.Assistant, "ld"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        Assert.Equal("ld", updates.Current.Text);
        // Its usage: a prompt of the client's 3 tokens and the 2 sent, and 8 generated.
        other.Send(new ChatResponseUpdate { FinishReason = ChatFinishReason.Length });
        other.Send(new ChatResponseUpdate { Contents = [new UsageContent(new() { InputTokenCount = 5, OutputTokenCount = 8, TotalTokenCount = 13 })] });
        other.End();
        var rest = new List<ChatResponseUpdate>();
        while (await updates.MoveNextAsync())
        {
            rest.Add(updates.Current);
        }

        Assert.Equal(ChatFinishReason.Length, Assert.Single(rest, u => u.FinishReason is not null).FinishReason);
        var usage = Assert.Single(rest.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal((3, 10, 13), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
        Assert.Equal((1, 5), (record.Resumes, record.ResumePromptTokens));
        Assert.Equal(0, record.Failovers);
        Assert.Equal(Array.IndexOf(_replicas, other) == 0 ? "llm-1" : "llm-2", record.Backend);
        var failedName = Array.IndexOf(_replicas, first) == 0 ? "llm-1" : "llm-2";
        Assert.Equal([("llmapp.resumes", 1, failedName)], _measurements.Where(m => m.Instrument == "llmapp.resumes"));
        Assert.Equal(0, _admission.Busy(_backends[0]) + _admission.Busy(_backends[1]));
    }

    /// <summary>Every backend fault after output began is continued, named by its cause; the idle timeout is the fake clock's.</summary>
    [Theory]
    [InlineData("error_event")]
    [InlineData("out_of_service")]
    [InlineData("idle_timeout")]
    [InlineData("disconnect")]
    public async Task EachBackendFaultAfterOutputBeganIsContinuedAndCountedByItsCause(string cause)
    {
        var record = new CallRecord(cause, _time.GetTimestamp());
        await using var updates = Start(record, maxTokens: 10);
        var next = updates.MoveNextAsync().AsTask();
        var (first, other) = await FirstCalledAsync();
        first.Send(new ChatResponseUpdate(ChatRole.Assistant, "Hello"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        next = updates.MoveNextAsync().AsTask();
        switch (cause)
        {
            case "error_event":
                first.Fail(new BackendFailureException(BackendFault.ErrorEvent, "The model backend failed mid-answer."));
                break;
            case "out_of_service":
                first.Fail(new BackendFailureException(BackendFault.OutOfService, "taken out of service"));
                break;
            case "idle_timeout":
                // Past the 2 s idle timeout: the deadline layer cancels the call and says why.
                await WaitUntilAsync(() => first.Called);
                _time.Advance(TimeSpan.FromSeconds(2.1));
                break;
            default:
                first.Fail(new IncompleteResponseException("The model backend's stream ended before it gave a finish reason."));
                break;
        }

        await WaitUntilAsync(() => other.Called);
        other.Send(new ChatResponseUpdate(ChatRole.Assistant, " world"));
        other.Send(new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop });
        other.End();
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        Assert.Equal(" world", updates.Current.Text);
        while (await updates.MoveNextAsync())
        {
        }

        Assert.Equal(1, record.Resumes);
        Assert.Null(record.Error);
        Assert.Equal([cause], _causes);
    }

    [Fact]
    public async Task WithResumesOffAFailureAfterTheFirstTokenIsNotMovedTheAnswerEndsWithIt()
    {
        var record = new CallRecord("cut", _time.GetTimestamp());
        await using var updates = Start(record, pipeline: _notResuming);
        var next = updates.MoveNextAsync().AsTask();

        var (first, other) = await FirstCalledAsync();
        first.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        first.Fail(new HttpIOException(HttpRequestError.ResponseEnded));

        await Assert.ThrowsAsync<HttpIOException>(() => updates.MoveNextAsync().AsTask().WaitAsync(s_realTimeLimit));
        Assert.False(other.Called, "half an answer was started again elsewhere");
        Assert.Equal(0, record.Failovers);
        Assert.DoesNotContain(_measurements, m => m.Instrument == "llmapp.backend.failovers");
    }

    public void Dispose()
    {
        _listener.Dispose();
        _admission.Dispose();
        Array.ForEach(_replicas, r => r.Dispose());
        _lifetime.Dispose();
        _services.Dispose();
    }

    private IAsyncEnumerator<ChatResponseUpdate> Start(CallRecord record, int? maxTokens = null, IChatClient? pipeline = null)
    {
        var call = new CallContext(record, Operations.Chat, "tiny", Stream: true, Key: "anonymous");
        return (pipeline ?? _pipeline).GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new GatewayChatOptions(new() { MaxOutputTokens = maxTokens }, call))
            .GetAsyncEnumerator();
    }

    /// <summary>The replica admission sent the call to, and the other one.</summary>
    private async Task<(ScriptedChatClient First, ScriptedChatClient Other)> FirstCalledAsync()
    {
        await WaitUntilAsync(() => _replicas.Any(r => r.Called));
        return _replicas[0].Called ? (_replicas[0], _replicas[1]) : (_replicas[1], _replicas[0]);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_realTimeLimit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the call did not get there");
            await Task.Delay(5);
        }
    }

    private ModelBackend Backend(string name) => _backends.Single(b => b.Name == name);

    private static ModelBackend Replica(string name)
    {
        var backend = BackendResilience.Create(name, Operations.Chat,
            new BackendOptions { Name = name, Endpoint = new Uri("http://127.0.0.1:1"), Model = "tiny" }, new ResilienceOptions { MaxConcurrentRequests = 1 });
        backend.SetHealthy(true);
        return backend;
    }

    private void Measured<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        string? backend = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "llmapp.backend")
            {
                backend = tag.Value as string;
            }
            else if (tag.Key == "llmapp.resume.cause")
            {
                lock (_causes)
                {
                    _causes.Add((string)tag.Value!);
                }
            }
        }

        lock (_measurements)
        {
            _measurements.Add((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), backend));
        }
    }
}
