using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Telemetry;

/// <summary>
/// Measures one chat completion from arrival to last byte (time to first token, time per output token, tokens)
/// and, when it ends, records the metrics and writes the request's one structured log line.
/// </summary>
public sealed partial class RequestTelemetry(
    GatewayMetrics metrics, ILogger logger, string requestId, string model, bool stream, IEnumerable<ChatMessage>? contentToLog = null)
{
    // Only when Telemetry:LogContent is on: the text of the answer, to log with the prompt.
    private readonly System.Text.StringBuilder? _completion = contentToLog is null ? null : new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _firstToken;
    private bool _active;
    private UsageDetails? _usage;
    private bool _finished;

    /// <summary>Called once the request holds a backend slot.</summary>
    public void OnAdmitted()
    {
        _active = true;
        metrics.ActiveRequests.Add(1, Tags());
    }

    /// <summary>Called for every update from the backend; the first with content marks the first token.</summary>
    public void OnUpdate(ChatResponseUpdate update)
    {
        if (_firstToken == 0 && update.Contents.Any(c => c is TextContent { Text.Length: > 0 } or FunctionCallContent))
        {
            _firstToken = Stopwatch.GetTimestamp();
        }

        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case UsageContent usage:
                    _usage = usage.Details;
                    break;
                case TextContent text when _completion is not null:
                    _completion.Append(text.Text);
                    break;
            }
        }
    }

    /// <summary>Called for a non-streaming answer, whose usage comes whole.</summary>
    public void OnResponse(ChatResponse response) => _usage ??= response.Usage;

    /// <summary>The status logged for a client that left before the answer was complete (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    public void OnRejected(string reason, int status)
    {
        metrics.Rejections.Add(1, new KeyValuePair<string, object?>("llmapp.rejection.reason", reason), Operation, Model);
        Finish(status, rejection: reason);
    }

    /// <summary>Records the request's metrics and writes its log line; <paramref name="errorType"/> names a backend failure.</summary>
    public void Finish(int status, string? errorType = null, string? rejection = null)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        var end = Stopwatch.GetTimestamp();
        var tags = Tags(errorType);
        if (_active)
        {
            metrics.ActiveRequests.Add(-1, Tags());
        }

        if (errorType is not null)
        {
            metrics.UpstreamErrors.Add(1, tags);
        }

        var duration = Stopwatch.GetElapsedTime(_start, end);
        metrics.RequestDuration.Record(duration.TotalSeconds, tags);

        TimeSpan? timeToFirstToken = _firstToken == 0 ? null : Stopwatch.GetElapsedTime(_start, _firstToken);
        if (timeToFirstToken is { } ttft)
        {
            metrics.TimeToFirstToken.Record(ttft.TotalSeconds, tags);
        }

        var input = _usage?.InputTokenCount;
        var output = _usage?.OutputTokenCount;
        if (input is { } i)
        {
            metrics.TokenUsage.Record(i, [.. tags, new("gen_ai.token.type", "input")]);
        }

        if (output is { } o)
        {
            metrics.TokenUsage.Record(o, [.. tags, new("gen_ai.token.type", "output")]);
            if (o > 1 && _firstToken != 0)
            {
                metrics.TimePerOutputToken.Record(Stopwatch.GetElapsedTime(_firstToken, end).TotalSeconds / (o - 1), tags);
            }
        }

        if (contentToLog is not null)
        {
            var prompt = string.Join("\n", contentToLog.Select(m => $"{m.Role}: {m.Text}"));
            var completion = _completion?.ToString() ?? "";
            LogContent(logger, requestId, prompt, completion);
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            LogCompletion(logger, requestId, model, status, stream, timeToFirstToken?.TotalMilliseconds, input, output, duration.TotalMilliseconds,
                errorType ?? rejection ?? "none");
        }
    }

    /// <summary>
    /// Called when the request ends whatever happened: one that failed in a way no handler expected still gets its
    /// metrics and log line, and is no longer counted as active.
    /// </summary>
    public void EnsureFinished() => Finish(StatusCodes.Status500InternalServerError, "server_error");

    private static readonly KeyValuePair<string, object?> Operation = new("gen_ai.operation.name", "chat");

    private KeyValuePair<string, object?> Model => new("gen_ai.request.model", model);

    private KeyValuePair<string, object?>[] Tags(string? errorType = null) => errorType is null
        ? [Operation, Model, new("llmapp.stream", stream)]
        : [Operation, Model, new("llmapp.stream", stream), new("error.type", errorType)];

    [LoggerMessage(EventId = 2, EventName = "ChatContent", Level = LogLevel.Information,
        Message = "chat.content {RequestId} prompt={Prompt} completion={Completion}")]
    private static partial void LogContent(ILogger logger, string requestId, string prompt, string completion);

    [LoggerMessage(EventId = 1, EventName = "ChatCompletion", Level = LogLevel.Information,
        Message = "chat.completion {RequestId} model={Model} status={Status} stream={Stream} ttft_ms={TimeToFirstTokenMs} " +
                  "tokens_in={InputTokens} tokens_out={OutputTokens} duration_ms={DurationMs} error={ErrorType}")]
    private static partial void LogCompletion(ILogger logger, string requestId, string model, int status, bool stream,
        double? timeToFirstTokenMs, long? inputTokens, long? outputTokens, double durationMs, string errorType);
}
