using LlmApp.Gateway.Anthropic;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Turns the chat pipeline's updates into Anthropic's stream: <c>message_start</c> and a <c>ping</c>, then for each
/// content block its <c>content_block_start</c>, deltas (<c>text_delta</c>, or a tool call's arguments as
/// <c>input_json_delta</c>) and <c>content_block_stop</c>, then <c>message_delta</c> with the <c>stop_reason</c> and
/// usage, and <c>message_stop</c>. Each event is written and flushed as it comes. A failure before the first byte is
/// answered with its status in Anthropic's error shape; after it, the stream's last event is an <c>error</c> event, and
/// no stop reason or <c>message_stop</c> is made up for an answer that did not finish.
/// </summary>
internal sealed class MessagesStreamer(SseWriter writer, string model, PromptCount? promptCount)
{
    private static readonly byte[] s_messageStart = "message_start"u8.ToArray();
    private static readonly byte[] s_ping = "ping"u8.ToArray();
    private static readonly byte[] s_blockStart = "content_block_start"u8.ToArray();
    private static readonly byte[] s_blockDelta = "content_block_delta"u8.ToArray();
    private static readonly byte[] s_blockStop = "content_block_stop"u8.ToArray();
    private static readonly byte[] s_messageDelta = "message_delta"u8.ToArray();
    private static readonly byte[] s_messageStop = "message_stop"u8.ToArray();
    private static readonly byte[] s_error = "error"u8.ToArray();

    private readonly string _id = MessageJson.MessageId();
    private readonly string _model = model;
    private readonly PromptCount? _promptCount = promptCount;
    private int _index = -1;
    private bool _open;
    private bool _openIsText;

    public static async Task<IResult> RespondAsync(HttpResponse response, IAsyncEnumerable<ChatResponseUpdate> updates, string model, PromptCount? promptCount,
        StreamingOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var writer = new SseWriter(response, options.KeepAliveInterval, time);
        return await new MessagesStreamer(writer, model, promptCount).StreamAsync(updates, cancellationToken);
    }

    public Task<IResult> StreamAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken) =>
        AnswerEnding.StreamAsync(writer, () => WriteEventsAsync(updates, cancellationToken),
            failure => writer.WriteEventAsync(s_error, failure, static (json, f) => AnthropicErrors.Write(json, f.Status, f.Error.Message), CancellationToken.None),
            cancellationToken);

    private async Task WriteEventsAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var started = false;
        ChatFinishReason? finishReason = null;
        string? stopSequence = null;
        UsageDetails? usage = null;
        var toolCalled = false;
        await foreach (var update in updates.WithCancellation(cancellationToken))
        {
            if (!started)
            {
                await writer.WriteEventAsync(s_messageStart, this, static (json, self) => MessageJson.MessageStart(json, self._id, self._model, self._promptCount),
                    cancellationToken);
                await writer.WriteEventAsync(s_ping, 0, static (json, _) => MessageJson.Ping(json), cancellationToken);
                started = true;
            }

            // By index: a foreach over the IList would allocate an enumerator for every token.
            var contents = update.Contents;
            for (var i = 0; i < contents.Count; i++)
            {
                switch (contents[i])
                {
                    case TextContent { Text.Length: > 0 } text:
                        if (!_open || !_openIsText)
                        {
                            await StartBlockAsync(isText: true, null, null, cancellationToken);
                        }

                        await writer.WriteEventAsync(s_blockDelta, (_index, text.Text), static (json, s) => MessageJson.TextDelta(json, s._index, s.Text), cancellationToken);
                        break;
                    case FunctionCallUpdateContent piece:
                        toolCalled = true;
                        if (piece.CallId is not null || !_open || _openIsText)
                        {
                            // A tool_use always has an id: the client sends it back with the tool's result.
                            await StartBlockAsync(isText: false, piece.CallId ?? MessageJson.ToolUseId(), piece.Name ?? "", cancellationToken);
                        }

                        if (piece.Arguments is { Length: > 0 } arguments)
                        {
                            await writer.WriteEventAsync(s_blockDelta, (_index, arguments), static (json, s) => MessageJson.InputJsonDelta(json, s._index, s.arguments),
                                cancellationToken);
                        }

                        break;
                    case FunctionCallContent call:
                        toolCalled = true;
                        await StartBlockAsync(isText: false, call.CallId, call.Name, cancellationToken);
                        var whole = OpenAI.ToolCallArguments.Text(call);
                        await writer.WriteEventAsync(s_blockDelta, (_index, whole), static (json, s) => MessageJson.InputJsonDelta(json, s._index, s.whole), cancellationToken);
                        break;
                    case UsageContent counted:
                        usage = counted.Details;
                        break;
                }
            }

            if (update.FinishReason is not null)
            {
                finishReason = update.FinishReason;
                stopSequence = StopSequenceReport.Of(update);
            }
        }

        var reason = AnswerEnding.Finished(finishReason);

        await CloseBlockAsync(cancellationToken);
        var stopReason = MessageJson.StopReason(reason, toolCalled, stopSequence);
        await writer.WriteEventAsync(s_messageDelta, (stopReason, usage, stopSequence: stopReason == "stop_sequence" ? stopSequence : null),
            static (json, s) => MessageJson.MessageDelta(json, s.stopReason, s.stopSequence, s.usage), cancellationToken);
        await writer.WriteEventAsync(s_messageStop, 0, static (json, _) => MessageJson.MessageStop(json), cancellationToken);
    }

    private async ValueTask StartBlockAsync(bool isText, string? id, string? name, CancellationToken cancellationToken)
    {
        await CloseBlockAsync(cancellationToken);
        _index++;
        _open = true;
        _openIsText = isText;
        if (isText)
        {
            await writer.WriteEventAsync(s_blockStart, _index, static (json, index) => MessageJson.TextBlockStart(json, index), cancellationToken);
        }
        else
        {
            await writer.WriteEventAsync(s_blockStart, (_index, id!, name!), static (json, s) => MessageJson.ToolUseBlockStart(json, s.Item1, s.Item2, s.Item3), cancellationToken);
        }
    }

    private async ValueTask CloseBlockAsync(CancellationToken cancellationToken)
    {
        if (_open)
        {
            await writer.WriteEventAsync(s_blockStop, _index, static (json, index) => MessageJson.BlockStop(json, index), cancellationToken);
            _open = false;
        }
    }
}
