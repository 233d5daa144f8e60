using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Streaming;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// The SSE events a client gets for a scripted sequence of pipeline updates, in the order OpenAI sends them, and what
/// it gets when the answer fails part-way. The same streamer runs against real llama-server in the end-to-end tests.
/// </summary>
public sealed class ChatCompletionStreamerTests
{
    private static readonly UsageDetails s_usage = new() { InputTokenCount = 12, OutputTokenCount = 2, TotalTokenCount = 14 };

    [Fact]
    public async Task AWholeAnswerIsRoleThenContentThenFinishThenUsageThenDone()
    {
        var (result, events) = await StreamAsync(
            [Text("Hel"), Text("lo"), Finish(ChatFinishReason.Stop), Usage()], includeUsage: true);

        Assert.IsNotType<GatewayFailure.FailureResult>(result);
        Assert.Equal(6, events.Count);
        Assert.Equal("assistant", Delta(events[0]).GetProperty("role").GetString());
        Assert.Equal("Hel", Delta(events[1]).GetProperty("content").GetString());
        Assert.Equal("lo", Delta(events[2]).GetProperty("content").GetString());
        Assert.Equal("stop", Choice(events[3]).GetProperty("finish_reason").GetString());
        using (var usage = JsonDocument.Parse(events[4]))
        {
            Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
            Assert.Equal(14, usage.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        }

        Assert.Equal("[DONE]", events[5]);
        Assert.All(events[..3], e => Assert.Equal(JsonValueKind.Null, Choice(e).GetProperty("finish_reason").ValueKind));
    }

    [Fact]
    public async Task UsageIsSentOnlyWhenAskedFor()
    {
        var (_, events) = await StreamAsync([Text("Hi"), Finish(ChatFinishReason.Length), Usage()], includeUsage: false);

        Assert.DoesNotContain(events, e => e.Contains("\"usage\"", StringComparison.Ordinal));
        Assert.Equal("length", Choice(events[^2]).GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task UsageTheBackendDidNotCountIsNeverMadeUp()
    {
        var (_, events) = await StreamAsync([Text("Hi"), Finish(ChatFinishReason.Stop)], includeUsage: true);

        Assert.DoesNotContain(events, e => e.Contains("\"usage\"", StringComparison.Ordinal));
        Assert.Equal("[DONE]", events[^1]);
    }

    [Fact]
    public async Task AFailureAfterTheFirstByteEndsTheStreamWithTheErrorAndNothingAfterIt()
    {
        var (result, events) = await StreamAsync(
            [Text("Once upon"), Text(" a time")], includeUsage: true,
            failWith: new BackendFailureException(BackendFault.ErrorEvent, "does not match the expected Content-only format"));

        Assert.IsNotType<GatewayFailure.FailureResult>(result);
        using var error = JsonDocument.Parse(events[^1]);
        Assert.Equal("backend_error", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("Content-only format", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal) ||
                                           e.Contains("\"finish_reason\":\"length\"", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Contains("\"usage\"", StringComparison.Ordinal));
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task AnAnswerThatEndsWithoutAFinishReasonIsReportedAsCut()
    {
        var (_, events) = await StreamAsync([Text("Once upon"), Usage()], includeUsage: true);

        using var error = JsonDocument.Parse(events[^1]);
        Assert.Equal("backend_incomplete", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task AFailureBeforeTheFirstByteIsAnHttpStatusAndNoStream()
    {
        var (result, events) = await StreamAsync([], includeUsage: true, failWith: new HttpRequestException(HttpRequestError.ConnectionError));

        var failure = Assert.IsType<GatewayFailure.FailureResult>(result);
        Assert.Equal(503, failure.StatusCode);
        Assert.Empty(events);
    }

    [Fact]
    public async Task ToolCallsGetIndexesAndTheirFinishReason()
    {
        var call = new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })]);

        var (_, events) = await StreamAsync([call, Finish(ChatFinishReason.ToolCalls)], includeUsage: false);

        var toolCall = Delta(events[1]).GetProperty("tool_calls")[0];
        Assert.Equal(0, toolCall.GetProperty("index").GetInt32());
        Assert.Equal("get_weather", toolCall.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("tool_calls", Choice(events[2]).GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task ToolCallPiecesGoOutAsOpenAIStreamsThem()
    {
        var first = new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallUpdateContent(0, "call_1", "get_weather", "")]);
        var rest = new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallUpdateContent(0, null, null, "{\"city\":")]);

        var (_, events) = await StreamAsync([first, rest, Finish(ChatFinishReason.Stop)], includeUsage: false);

        var head = Delta(events[1]).GetProperty("tool_calls")[0];
        Assert.Equal("""{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}""", head.GetRawText());
        var piece = Delta(events[2]).GetProperty("tool_calls")[0];
        Assert.Equal("""{"index":0,"function":{"arguments":"{\"city\":"}}""", piece.GetRawText());
        Assert.Equal("tool_calls", Choice(events[3]).GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task LogprobsGoOutWithTheirTokenAsTheBackendSentThem()
    {
        const string logprobs = """{"content":[{"id":7,"token":"Hi","bytes":[72,105],"logprob":-0.5,"top_logprobs":[]}]}""";
        var update = new ChatResponseUpdate(ChatRole.Assistant, [new TextContent("Hi"), new LogprobsContent(System.Text.Encoding.UTF8.GetBytes(logprobs))]);

        var (_, events) = await StreamAsync([update, Finish(ChatFinishReason.Stop)], includeUsage: false);

        Assert.Equal("Hi", Delta(events[1]).GetProperty("content").GetString());
        Assert.Equal(logprobs, Choice(events[1]).GetProperty("logprobs").GetRawText());
        Assert.Equal(JsonValueKind.Null, Choice(events[2]).GetProperty("logprobs").ValueKind);
    }

    private static ChatResponseUpdate Text(string text) => new(ChatRole.Assistant, text);

    private static ChatResponseUpdate Finish(ChatFinishReason reason) => new() { Role = ChatRole.Assistant, FinishReason = reason };

    private static ChatResponseUpdate Usage() => new(ChatRole.Assistant, [new UsageContent(s_usage)]);

    private static JsonElement Choice(string json) => JsonDocument.Parse(json).RootElement.GetProperty("choices")[0];

    private static JsonElement Delta(string json) => Choice(json).GetProperty("delta");

    private static async Task<(IResult Result, List<string> Events)> StreamAsync(
        IReadOnlyList<ChatResponseUpdate> updates, bool includeUsage, Exception? failWith = null)
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        using var writer = new SseWriter(context.Response, TimeSpan.FromSeconds(15), TimeProvider.System);
        var streamer = new ChatCompletionStreamer(writer, "tiny", includeUsage);

        var result = await streamer.StreamAsync(Script(updates, failWith), CancellationToken.None);

        var events = Encoding.UTF8.GetString(body.ToArray())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => Assert.IsType<string>(e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : null))
            .ToList();
        return (result, events);
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Script(
        IReadOnlyList<ChatResponseUpdate> updates, Exception? failWith, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in updates)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return update;
        }

        if (failWith is not null)
        {
            throw failWith;
        }
    }
}
