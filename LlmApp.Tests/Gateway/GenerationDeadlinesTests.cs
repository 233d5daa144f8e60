using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Resilience;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// The first-token, idle and total deadlines, on a clock the test moves by hand. The same deadlines against a stalled
/// real llama-server are in <c>FaultTests</c>.
/// </summary>
public sealed class GenerationDeadlinesTests : IDisposable
{
    private static readonly ResilienceOptions s_options = new()
    {
        FirstTokenTimeout = TimeSpan.FromSeconds(10),
        IdleTimeout = TimeSpan.FromSeconds(2),
        TotalTimeoutBase = TimeSpan.FromSeconds(60),
        TotalTimeoutPerToken = TimeSpan.Zero,
    };

    private static readonly TimeSpan s_realTimeLimit = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _backend = new();

    [Fact]
    public async Task NoFirstTokenInTimeIsAFirstTokenTimeout()
    {
        var next = Start().MoveNextAsync().AsTask();

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.2));

        var timeout = await TimeoutOf(next);
        Assert.Equal(GenerationTimeout.FirstToken, timeout.Timeout);
        Assert.True(_backend.CallToken.IsCancellationRequested, "the backend call is cancelled, which frees its slot");
    }

    [Fact]
    public async Task ARoleOnlyChunkIsNotAFirstToken()
    {
        var updates = Start();
        _backend.Send(new ChatResponseUpdate { Role = ChatRole.Assistant });
        Assert.True(await updates.MoveNextAsync());

        var next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.False(next.IsCompleted, "the idle timeout must not start before the first token: the prompt may still be read");
        _time.Advance(TimeSpan.FromSeconds(7.1));

        Assert.Equal(GenerationTimeout.FirstToken, (await TimeoutOf(next)).Timeout);
    }

    [Fact]
    public async Task TokensThatKeepComingAreNeverCutAndSilenceAfterThemIsAnIdleTimeout()
    {
        var updates = Start();
        for (var i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1.5));
            _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
            Assert.True(await updates.MoveNextAsync());
        }

        var next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(2.1));

        Assert.Equal(GenerationTimeout.Idle, (await TimeoutOf(next)).Timeout);
    }

    [Fact]
    public async Task TheTotalDeadlineCountsFromArrivalSoTimeInTheQueueIsPartOfIt()
    {
        var arrival = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(55)); // queued
        var updates = Start(arrival);
        _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
        Assert.True(await updates.MoveNextAsync());

        var next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.9));
        _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.9));
        _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
        next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.3));

        Assert.Equal(GenerationTimeout.Total, (await TimeoutOf(next)).Timeout);
    }

    [Fact]
    public async Task TheEndOfTheDrainWindowCutsTheGenerationAsAShutdown()
    {
        using var shutdown = new CancellationTokenSource();
        var updates = Start(shutdown: shutdown.Token);
        var next = updates.MoveNextAsync().AsTask();

        await shutdown.CancelAsync();

        Assert.Equal(GenerationTimeout.Shutdown, (await TimeoutOf(next)).Timeout);
    }

    [Fact]
    public async Task AClientThatLeavesIsACancellationNotATimeout()
    {
        using var client = new CancellationTokenSource();
        var updates = Start(cancellationToken: client.Token);
        var next = updates.MoveNextAsync().AsTask();

        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(s_realTimeLimit));
        Assert.True(_backend.CallToken.IsCancellationRequested);
    }

    [Fact]
    public async Task AnAnswerThatEndsInTimeEndsNormally()
    {
        var updates = Start();
        _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "done") { FinishReason = ChatFinishReason.Stop });
        _backend.End();

        Assert.True(await updates.MoveNextAsync());
        Assert.False(await updates.MoveNextAsync());
        await updates.DisposeAsync();

        // The call's timers went with it: none fires later on the finished call (nor on its disposed token source).
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(_backend.CallToken.IsCancellationRequested, "a deadline fired after the answer had ended");
    }

    [Fact]
    public async Task ABackendThatStreamsOnlyToolCallPiecesMovesBothTimers()
    {
        // vLLM and OpenAI-like servers stream a tool call as pieces of its arguments, with no text at all.
        var updates = Start();
        _time.Advance(TimeSpan.FromSeconds(9));
        _backend.Send(new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallUpdateContent(0, "call_1", "lookup", null)] });
        Assert.True(await updates.MoveNextAsync());

        // The first piece disarmed the first-token timer (10 s): past it, the call goes on while pieces keep coming.
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1.5));
            _backend.Send(new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallUpdateContent(0, null, null, "{\"q\":")] });
            Assert.True(await updates.MoveNextAsync().AsTask().WaitAsync(s_realTimeLimit));
        }

        // Each piece moved the idle timer (2 s): 1.9 s after the last one the call is still there; 2.1 s after, it is not.
        var next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(GenerationTimeout.Idle, (await TimeoutOf(next)).Timeout);
    }

    [Fact]
    public async Task AHugeMaxTokensStillGetsADeadline()
    {
        var deadlines = new GenerationDeadlinesChatClient(_backend, new ResilienceOptions(), _time, CancellationToken.None);
        var options = new GatewayChatOptions(new ChatOptions { MaxOutputTokens = int.MaxValue }, Call(_time.GetTimestamp()));
        await using var updates = deadlines.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options).GetAsyncEnumerator();
        _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));

        Assert.True(await updates.MoveNextAsync());

        // The total deadline is clamped, not overflowed into the past: the call is not cut at once.
        Assert.Equal(ResilienceOptions.MaxTotalTimeout, new ResilienceOptions().TotalTimeout(int.MaxValue));
        var next = updates.MoveNextAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(next.IsCompleted, "a huge max_tokens made the total deadline fire at once");
        _backend.Send(new ChatResponseUpdate(ChatRole.Assistant, "token"));
        Assert.True(await next.WaitAsync(s_realTimeLimit));
    }

    public void Dispose() => _backend.Dispose();

    /// <summary>The timeout the call ends with; on real time, a deadline that never fires fails the test instead of hanging it.</summary>
    private static Task<GenerationTimeoutException> TimeoutOf(Task<bool> next) =>
        Assert.ThrowsAsync<GenerationTimeoutException>(() => next.WaitAsync(s_realTimeLimit));

    private IAsyncEnumerator<ChatResponseUpdate> Start(long? arrival = null, CancellationToken shutdown = default, CancellationToken cancellationToken = default)
    {
        var deadlines = new GenerationDeadlinesChatClient(_backend, s_options, _time, shutdown);
        var options = new GatewayChatOptions(null, Call(arrival ?? _time.GetTimestamp()));
        return deadlines.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    private static CallContext Call(long arrival) => new(new CallRecord("test", arrival), Operations.Chat, "llm", Stream: true, Key: "anonymous");
}
