using System.Text;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// The backend's SSE stream, byte for byte as llama-server and vLLM write it, read into updates. Real llama-server
/// cannot be made to send a malformed event or stop without a finish reason on demand, so these bytes are scripted;
/// its real mid-stream error is in <c>IntegrityTests</c>.
/// </summary>
public sealed class BackendStreamReaderTests
{
    private const string Role = """{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1795724805,"id":"chatcmpl-1","model":"tiny","object":"chat.completion.chunk"}""";
    private const string Hello = """{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hello"}}],"created":1795724805,"id":"chatcmpl-1","model":"tiny","object":"chat.completion.chunk"}""";
    private const string Length = """{"choices":[{"finish_reason":"length","index":0,"delta":{}}],"created":1795724805,"id":"chatcmpl-1","model":"tiny","object":"chat.completion.chunk"}""";
    private const string Usage = """{"choices":[],"created":1795724805,"id":"chatcmpl-1","model":"tiny","object":"chat.completion.chunk","usage":{"completion_tokens":4,"prompt_tokens":29,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":7}}}""";
    private const string LlamaServerError = """{"error":{"code":500,"message":"The model produced output that does not match the expected Content-only format","type":"server_error"}}""";

    [Fact]
    public async Task AWholeStreamGivesTextFinishReasonAndTheBackendsCounts()
    {
        var updates = await ReadAllAsync(Sse(Role, Hello, Length, Usage, "[DONE]"));

        Assert.Equal("Hello", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Length, updates.Single(u => u.FinishReason is not null).FinishReason);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single().Details;
        Assert.Equal(29, usage.InputTokenCount);
        Assert.Equal(4, usage.OutputTokenCount);
        Assert.Equal(7, usage.CachedInputTokenCount);
        Assert.All(updates, u => Assert.Equal("chatcmpl-1", u.ResponseId));
    }

    [Fact]
    public async Task AnErrorEventMidStreamIsThrownWithTheBackendsMessageAfterWhatCameBeforeIt()
    {
        var read = new List<ChatResponseUpdate>();

        var error = await Assert.ThrowsAsync<BackendFailureException>(() => ReadAllAsync(Sse(Role, Hello, LlamaServerError), read));

        Assert.Equal(BackendFault.ErrorEvent, error.Fault);
        Assert.Equal("The model produced output that does not match the expected Content-only format", error.Message);
        Assert.Equal("Hello", string.Concat(read.Select(u => u.Text)));
        Assert.DoesNotContain(read, u => u.FinishReason is not null);
    }

    [Fact]
    public async Task AnOlderVllmErrorEventIsAnErrorToo()
    {
        var error = await Assert.ThrowsAsync<BackendFailureException>(() =>
            ReadAllAsync(Sse(Hello, """{"object":"error","message":"CUDA out of memory","type":"InternalServerError","code":500}""")));

        Assert.Equal(BackendFault.ErrorEvent, error.Fault);
        Assert.Equal("CUDA out of memory", error.Message);
    }

    [Theory]
    [InlineData("{\"choices\":[{\"delta\":{\"content\":\"cut")]
    [InlineData("not json at all")]
    [InlineData("null")]
    public async Task AnEventThatIsNotAChunkIsAFailure(string data)
    {
        var error = await Assert.ThrowsAsync<BackendFailureException>(() => ReadAllAsync(Sse(Hello, data, Length, "[DONE]")));

        Assert.Equal(BackendFault.MalformedEvent, error.Fault);
    }

    [Fact]
    public async Task AStreamThatStopsWithoutAFinishReasonIsIncomplete()
    {
        await Assert.ThrowsAsync<IncompleteResponseException>(() => ReadAllAsync(Sse(Role, Hello)));
    }

    [Fact]
    public async Task DoneWithoutAFinishReasonIsIncompleteToo()
    {
        await Assert.ThrowsAsync<IncompleteResponseException>(() => ReadAllAsync(Sse(Role, Hello, Usage, "[DONE]")));
    }

    [Fact]
    public async Task AFinishedStreamThatLosesItsUsageAndDoneIsStillComplete()
    {
        var updates = await ReadAllAsync(Sse(Hello, Length));

        Assert.Contains(updates, u => u.FinishReason == ChatFinishReason.Length);
        Assert.DoesNotContain(updates.SelectMany(u => u.Contents), c => c is UsageContent);
    }

    [Fact]
    public async Task StreamedToolCallDeltasPassOnAsTheyCame()
    {
        var updates = await ReadAllAsync(Sse(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            "[DONE]"));

        var pieces = updates.SelectMany(u => u.Contents).OfType<FunctionCallUpdateContent>().ToList();
        Assert.Equal(3, pieces.Count);
        Assert.Equal(("call_1", "get_weather"), (pieces[0].CallId, pieces[0].Name));
        Assert.All(pieces, p => Assert.Equal(0, p.Index));
        Assert.Equal("""{"city":"Oslo"}""", string.Concat(pieces.Select(p => p.Arguments)));
        Assert.Null(pieces[1].CallId);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public void AWholeAnswersToolCallsKeepTheirArgumentsAsGenerated()
    {
        var response = BackendStreamReader.ReadOne(
            """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\" : \"Oslo\"}"}}]},"finish_reason":"tool_calls"}]}"""u8, usageSeen: null);

        var call = Assert.Single(response.Messages[^1].Contents.OfType<FunctionCallContent>());
        Assert.Equal("""{"city" : "Oslo"}""", call.RawRepresentation);
        Assert.Equal("Oslo", call.Arguments!["city"]!.ToString());
    }

    [Fact]
    public async Task TheStopWordLlamaServerNamesBeforeItsFinishRidesOnTheFinishingUpdate()
    {
        // llama-server puts __verbose (cut to the stopping word) on the first event of its last batch, which can be a
        // text event before the finish's.
        const string Last = """{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"lo"}}],"id":"chatcmpl-1","model":"tiny","__verbose":{"stopping_word":"###"}}""";
        const string Stop = """{"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"id":"chatcmpl-1","model":"tiny"}""";

        var updates = await ReadAllAsync(Sse(Hello, Last, Stop, "[DONE]"));

        Assert.Null(StopSequenceReport.Of(updates[1]));
        Assert.Equal("###", StopSequenceReport.Of(updates[^1]));
    }

    [Theory]
    [InlineData("""{"choices":[{"finish_reason":"stop","index":0,"delta":{},"stop_reason":"END"}],"id":"c","model":"m"}""", "END")]
    [InlineData("""{"choices":[{"finish_reason":"stop","index":0,"delta":{},"stop_reason":128009}],"id":"c","model":"m"}""", null)]
    [InlineData("""{"choices":[{"finish_reason":"stop","index":0,"delta":{},"stop_reason":null}],"id":"c","model":"m"}""", null)]
    [InlineData("""{"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"id":"c","model":"m","__verbose":{"stopping_word":""}}""", null)]
    public async Task VllmsStopReasonNamesTheStopStringButNotAStopToken(string finish, string? named)
    {
        var updates = await ReadAllAsync(Sse(Hello, finish, "[DONE]"));

        Assert.Equal(named, StopSequenceReport.Of(updates[^1]));
    }

    [Fact]
    public async Task PromptProgressFillsThePromptCountAndGoesNoFurther()
    {
        // llama-server's events with return_progress: before generation, role deltas carrying prompt_progress.
        const string Progress0 = """{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"id":"chatcmpl-1","model":"tiny","prompt_progress":{"total":33,"cache":11,"processed":11,"time_ms":0}}""";
        const string Progress1 = """{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"id":"chatcmpl-1","model":"tiny","prompt_progress":{"total":33,"cache":11,"processed":33,"time_ms":1}}""";
        var count = new PromptCount();
        var updates = new List<ChatResponseUpdate>();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Sse(Progress0, Progress1, Role, Hello, Length, Usage, "[DONE]")));

        await foreach (var update in BackendStreamReader.ReadAsync(stream, usageSeen: null, count, CancellationToken.None))
        {
            updates.Add(update);
        }

        Assert.Equal((33, 11), (count.Total, count.Cached));
        Assert.Equal(4, updates.Count);
    }

    [Fact]
    public void AWholeAnswerKeepsItsStopWord()
    {
        var response = BackendStreamReader.ReadOne(
            """{"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"Hel"}}],"id":"c","model":"m","__verbose":{"stopping_word":"lo"}}"""u8,
            usageSeen: null);

        Assert.Equal("lo", StopSequenceReport.Of(response));
    }

    [Fact]
    public async Task LogprobsSpreadOverLinesArePassedOnAsOneLineOfJson()
    {
        // An SSE event's data may span lines; what the gateway passes on goes into one data line of its own stream.
        const string Event = "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{\"content\":\"a\"},\"logprobs\":{\n\"content\": []\n}}],\"id\":\"c\"}";
        var body = "data: " + Event.Replace("\n", "\ndata: ", StringComparison.Ordinal) + "\n\n" + Sse("[DONE]");

        var updates = await ReadAllAsync(body);

        var logprobs = Assert.Single(updates.SelectMany(u => u.Contents).OfType<LogprobsContent>());
        Assert.Equal("""{"content":[]}""", Encoding.UTF8.GetString(logprobs.Json.Span));
    }

    [Fact]
    public async Task CommentsAndBlankLinesBetweenEventsAreIgnored()
    {
        var body = ": keep-alive\n\n" + Sse(Hello) + ": ping\n\n" + Sse(Length, "[DONE]");

        var updates = await ReadAllAsync(body);

        Assert.Equal("Hello", string.Concat(updates.Select(u => u.Text)));
    }

    private static string Sse(params string[] events) => string.Concat(events.Select(e => $"data: {e}\n\n"));

    private static async Task<List<ChatResponseUpdate>> ReadAllAsync(string body, List<ChatResponseUpdate>? into = null)
    {
        into ??= [];
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(body));
        await foreach (var update in BackendStreamReader.ReadAsync(stream, usageSeen: null, promptCount: null, CancellationToken.None))
        {
            into.Add(update);
        }

        return into;
    }
}
