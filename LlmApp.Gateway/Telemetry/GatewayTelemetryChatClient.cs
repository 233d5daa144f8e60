using System.Runtime.CompilerServices;
using System.Text;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Telemetry;

/// <summary>
/// Measures each chat call as a server does: time to first token and request duration from the request's arrival
/// (queue included), time per output token, token usage, and failures by <c>error.type</c>. It is the one that writes
/// the request's <see cref="CallRecord"/>, from what the call returned: its updates or answer, where admission said
/// which backend served it, or the exception it threw. A call a layer refused (admission, the context check) is
/// recorded with its reason and counts on no latency or error series: it reached no backend. Prompt and completion
/// text are logged only when <c>Telemetry:LogContent</c> is on.
/// </summary>
public sealed partial class GatewayTelemetryChatClient(IChatClient innerClient, GatewayMetrics metrics, TimeProvider time, ILogger logger, bool logContent)
    : DelegatingChatClient(innerClient)
{
    private static readonly KeyValuePair<string, object?> s_operation = new("gen_ai.operation.name", Operations.Chat);

    /// <summary>
    /// An answer that did not stream: its first token came when its generation began, which llama-server reports
    /// (<c>timings.predicted_ms</c>); for a backend that does not, no time to first token or per token is recorded.
    /// </summary>
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var call = options.GetCall();
        var arrival = call?.ArrivalTimestamp ?? time.GetTimestamp();
        ChatResponse? response = null;
        Exception? failure = null;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken);
            return response;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            failure = ex;
            throw;
        }
        finally
        {
            var end = time.GetTimestamp();
            long firstToken = 0;
            if (response?.Usage?.AdditionalCounts?.TryGetValue(BackendUsage.GenerationMicrosecondsKey, out var generation) == true)
            {
                firstToken = Math.Max(arrival, end - (long)(generation / 1e6 * time.TimestampFrequency));
            }

            var (backend, failovers) = failure is null ? CallAnnotations.Read(response?.AdditionalProperties) : CallAnnotations.Read(failure);
            var resumed = failure is null ? CallAnnotations.ReadResumes(response?.AdditionalProperties) : null;
            Record(call, options, stream: false, arrival, firstToken, response?.Usage, failure, backend, failovers,
                CallAnnotations.PredictedFirstToken(response?.AdditionalProperties), Resumes(resumed, failure));
            if (logContent && response is not null)
            {
                WriteContent(call, messages, response.Text);
            }
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var call = options.GetCall();
        var arrival = call?.ArrivalTimestamp ?? time.GetTimestamp();
        var completion = logContent ? new StringBuilder() : null;
        long firstToken = 0;
        UsageDetails? usage = null;
        Exception? failure = null;
        (string? Backend, int Failovers) routed = (null, 0);
        TimeSpan? predicted = null;
        (string Backend, int Resumes, long PromptTokens)? resumed = null;
        var first = true;
        try
        {
            await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = ex;
                    throw;
                }

                var update = updates.Current;
                if (first)
                {
                    first = false;
                    routed = CallAnnotations.Read(update.AdditionalProperties);
                    predicted = CallAnnotations.PredictedFirstToken(update.AdditionalProperties);
                }

                if (firstToken == 0 && ChatUpdates.CarriesOutput(update))
                {
                    firstToken = time.GetTimestamp();
                }

                // By index: a foreach over the IList would allocate an enumerator for every token.
                var contents = update.Contents;
                for (var i = 0; i < contents.Count; i++)
                {
                    switch (contents[i])
                    {
                        case TextContent text:
                            completion?.Append(text.Text);
                            break;
                        case UsageContent usageContent:
                            usage = usageContent.Details;
                            resumed = CallAnnotations.ReadResumes(update.AdditionalProperties) ?? resumed;
                            break;
                    }
                }

                if (update.FinishReason is not null)
                {
                    // A continued answer ends on the replica that took it up.
                    resumed = CallAnnotations.ReadResumes(update.AdditionalProperties) ?? resumed;
                }

                yield return update;
            }
        }
        finally
        {
            if (failure is not null)
            {
                routed = CallAnnotations.Read(failure);
            }
            else if (resumed is { } continued)
            {
                routed.Backend = continued.Backend;
            }

            Record(call, options, stream: true, arrival, firstToken, usage, failure, routed.Backend, routed.Failovers, predicted, Resumes(resumed, failure));
            if (completion is not null)
            {
                WriteContent(call, messages, completion.ToString());
            }
        }
    }

    private void WriteContent(CallContext? call, IEnumerable<ChatMessage> messages, string completion)
    {
        var prompt = string.Join("\n", messages.Select(m => $"{m.Role}: {m.Text}"));
        LogContent(logger, call?.RequestId ?? "", prompt, completion);
    }

    /// <summary>How many times the call's answer was continued, and the prompt tokens that cost: from its last updates, or the failure that ended it.</summary>
    private static (int Count, long PromptTokens) Resumes((string Backend, int Resumes, long PromptTokens)? resumed, Exception? failure) =>
        failure is not null ? (CallAnnotations.ReadResumes(failure), 0) : resumed is { } r ? (r.Resumes, r.PromptTokens) : (0, 0);

    private void Record(CallContext? call, ChatOptions? options, bool stream, long arrival, long firstToken, UsageDetails? usage, Exception? failure,
        string? backend, int failovers, TimeSpan? predicted, (int Count, long PromptTokens) resumes)
    {
        var end = time.GetTimestamp();
        TimeSpan? timeToFirstToken = firstToken == 0 ? null : time.GetElapsedTime(arrival, firstToken);
        var errorType = failure is null ? null : Classify(failure);
        if (call is not null)
        {
            var record = call.Record;
            record.Backend = backend;
            record.Failovers = failovers;
            record.Resumes = resumes.Count;
            record.ResumePromptTokens = resumes.PromptTokens;
            record.TimeToFirstToken = timeToFirstToken;
            record.Usage = usage;
            record.Error ??= errorType;
        }

        if (failure is CallRefusedException)
        {
            // Turned away before any backend: the client's answer says why, and no latency or error series counts it.
            return;
        }

        KeyValuePair<string, object?>[] tags =
        [
            s_operation, new("gen_ai.request.model", call?.Model ?? options?.ModelId), new("llmapp.stream", call?.Stream ?? stream),
            new("llmapp.api", call?.Api ?? ChatApis.ChatCompletions),
        ];
        if (backend is not null)
        {
            tags = [.. tags, new("llmapp.backend", backend)];
        }

        if (errorType is not null)
        {
            tags = [.. tags, new("error.type", errorType)];
            metrics.UpstreamErrors.Add(1, tags);
        }

        metrics.RequestDuration.Record(time.GetElapsedTime(arrival, end).TotalSeconds, tags);
        if (timeToFirstToken is { } ttft)
        {
            metrics.TimeToFirstToken.Record(ttft.TotalSeconds, tags);
            // A call that moved to another replica was not the one predicted.
            if (predicted is { } prediction && failovers == 0 && resumes.Count == 0 && ttft > TimeSpan.Zero)
            {
                metrics.TimeToFirstTokenPrediction.Record(prediction / ttft, tags);
            }
        }

        if (usage?.InputTokenCount is { } input)
        {
            metrics.TokenUsage.Record(input, [.. tags, new("gen_ai.token.type", "input")]);
            metrics.PromptTokens.Add(input, tags);
            metrics.CachedPromptTokens.Add(usage.CachedInputTokenCount ?? 0, tags);
        }

        if (usage?.OutputTokenCount is { } output)
        {
            metrics.TokenUsage.Record(output, [.. tags, new("gen_ai.token.type", "output")]);
            if (output > 1 && firstToken != 0)
            {
                metrics.TimePerOutputToken.Record(time.GetElapsedTime(firstToken, end).TotalSeconds / (output - 1), tags);
            }
        }
    }

    private string Classify(Exception exception)
    {
        var failure = FailureClassifier.Classify(exception);
        if (exception is CallRefusedException)
        {
            return failure.ErrorType;
        }

        if (failure.Status == StatusCodes.Status500InternalServerError)
        {
            LogUnexpected(logger, failure.ErrorType, exception);
        }
        else
        {
            LogBackendFailure(logger, failure.ErrorType, exception.Message);
        }

        return failure.ErrorType;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backend call failed ({ErrorType}): {Reason}")]
    private static partial void LogBackendFailure(ILogger logger, string errorType, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The chat call failed unexpectedly ({ErrorType}).")]
    private static partial void LogUnexpected(ILogger logger, string errorType, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "ChatContent", Level = LogLevel.Information,
        Message = "chat.content {RequestId} prompt={Prompt} completion={Completion}")]
    private static partial void LogContent(ILogger logger, string requestId, string prompt, string completion);
}

public static class GatewayTelemetryChatClientBuilderExtensions
{
    /// <summary>Adds the gateway's server-side GenAI metrics (<see cref="GatewayMetrics"/>) to the chat pipeline.</summary>
    public static ChatClientBuilder UseGatewayTelemetry(this ChatClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) => new GatewayTelemetryChatClient(
            inner,
            services.GetRequiredService<GatewayMetrics>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<GatewayTelemetryChatClient>(),
            services.GetRequiredService<IOptions<TelemetryOptions>>().Value.LogContent));
    }
}
