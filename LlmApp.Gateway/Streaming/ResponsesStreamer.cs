using System.Text;
using System.Text.Json;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Turns the chat pipeline's updates into the Responses API's stream, each event named and numbered
/// (<c>sequence_number</c>): <c>response.created</c> and <c>response.in_progress</c>; for text, a message item's
/// <c>response.output_item.added</c>, <c>response.content_part.added</c>, <c>response.output_text.delta</c>s,
/// <c>response.output_text.done</c>, <c>response.content_part.done</c> and <c>response.output_item.done</c>; for a
/// function call, its item added, <c>response.function_call_arguments.delta</c>s and <c>.done</c>, its item done; then
/// <c>response.completed</c> or <c>response.incomplete</c> with the whole response and its usage. A failure before
/// the first byte is answered with its status; after it, the stream ends with <c>response.failed</c>, never with a
/// normal end for an answer that did not finish.
/// </summary>
internal sealed class ResponsesStreamer(SseWriter writer, ResponseHeader header)
{
    private static readonly byte[] s_created = "response.created"u8.ToArray();
    private static readonly byte[] s_inProgress = "response.in_progress"u8.ToArray();
    private static readonly byte[] s_outputItemAdded = "response.output_item.added"u8.ToArray();
    private static readonly byte[] s_contentPartAdded = "response.content_part.added"u8.ToArray();
    private static readonly byte[] s_outputTextDelta = "response.output_text.delta"u8.ToArray();
    private static readonly byte[] s_outputTextDone = "response.output_text.done"u8.ToArray();
    private static readonly byte[] s_contentPartDone = "response.content_part.done"u8.ToArray();
    private static readonly byte[] s_outputItemDone = "response.output_item.done"u8.ToArray();
    private static readonly byte[] s_functionCallArgumentsDelta = "response.function_call_arguments.delta"u8.ToArray();
    private static readonly byte[] s_functionCallArgumentsDone = "response.function_call_arguments.done"u8.ToArray();
    private static readonly byte[] s_completed = "response.completed"u8.ToArray();
    private static readonly byte[] s_incomplete = "response.incomplete"u8.ToArray();
    private static readonly byte[] s_failed = "response.failed"u8.ToArray();

    private readonly List<ResponseItem> _done = [];
    private readonly StringBuilder _text = new();
    private int _sequence;
    private ResponseItem? _open;

    public static async Task<IResult> RespondAsync(HttpResponse response, IAsyncEnumerable<ChatResponseUpdate> updates, ResponseHeader header,
        StreamingOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var writer = new SseWriter(response, options.KeepAliveInterval, time);
        return await new ResponsesStreamer(writer, header).StreamAsync(updates, cancellationToken);
    }

    public Task<IResult> StreamAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken) =>
        AnswerEnding.StreamAsync(writer, () => WriteEventsAsync(updates, cancellationToken), WriteFailedAsync, cancellationToken);

    /// <summary>
    /// <c>response.failed</c>, after <c>response.created</c> where that has not gone out (the stream was started by a
    /// keep-alive during a long prompt): a client reads a Responses stream from its <c>response.created</c>.
    /// </summary>
    private async ValueTask WriteFailedAsync(GatewayFailure failure)
    {
        if (_sequence == 0)
        {
            await WriteStartAsync(CancellationToken.None);
        }

        await WriteAsync(s_failed, (failure.Error.Message, Code: failure.Error.Code ?? failure.Error.Type), static (json, self, s) =>
        {
            json.WritePropertyName("response"u8);
            ResponseJson.WriteResponse(json, self.Header, "failed", self.SoFar(), usage: null, error: (s.Code, s.Message));
        }, CancellationToken.None);
    }

    /// <summary><c>response.created</c> and <c>response.in_progress</c>.</summary>
    private async ValueTask WriteStartAsync(CancellationToken cancellationToken)
    {
        await WriteAsync(s_created, 0, static (json, self, _) => self.WriteInProgress(json), cancellationToken);
        await WriteAsync(s_inProgress, 0, static (json, self, _) => self.WriteInProgress(json), cancellationToken);
    }

    private void WriteInProgress(Utf8JsonWriter json)
    {
        json.WritePropertyName("response"u8);
        ResponseJson.WriteResponse(json, Header, "in_progress", items: null, usage: null);
    }

    private ResponseHeader Header => header;

    /// <summary>The items sent, the one cut short among them (<c>incomplete</c>, with what of it was sent): nothing the client saw is missing.</summary>
    private List<ResponseItem> SoFar() => _open is { } open ? [.. _done, open with { Text = _text.ToString(), Status = "incomplete" }] : _done;

    private async Task WriteEventsAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        ChatFinishReason? finishReason = null;
        UsageDetails? usage = null;
        await foreach (var update in updates.WithCancellation(cancellationToken))
        {
            if (_sequence == 0)
            {
                await WriteStartAsync(cancellationToken);
            }

            // By index: a foreach over the IList would allocate an enumerator for every token.
            var contents = update.Contents;
            for (var i = 0; i < contents.Count; i++)
            {
                switch (contents[i])
                {
                    case TextContent { Text.Length: > 0 } text:
                        if (_open is not { IsCall: false })
                        {
                            await OpenAsync(new ResponseItem(ResponseJson.NewId("msg_"), IsCall: false, ""), cancellationToken);
                        }

                        _text.Append(text.Text);
                        await WriteAsync(s_outputTextDelta, text.Text, static (json, self, delta) =>
                        {
                            self.WriteItemPosition(json, part: true);
                            json.WriteString("delta"u8, delta);
                            json.WriteStartArray("logprobs"u8);
                            json.WriteEndArray();
                        }, cancellationToken);
                        break;
                    case FunctionCallUpdateContent piece:
                        if (piece.CallId is not null || _open is not { IsCall: true })
                        {
                            // A call's item always has a call id: a client sends it back with the call's output.
                            await OpenAsync(new ResponseItem(ResponseJson.NewId("fc_"), IsCall: true, "", piece.CallId ?? ResponseJson.NewId("call_"), piece.Name ?? ""),
                                cancellationToken);
                        }

                        if (piece.Arguments is { Length: > 0 } arguments)
                        {
                            _text.Append(arguments);
                            await WriteArgumentsDeltaAsync(arguments, cancellationToken);
                        }

                        break;
                    case FunctionCallContent call:
                        await OpenAsync(new ResponseItem(ResponseJson.NewId("fc_"), IsCall: true, "", call.CallId, call.Name), cancellationToken);
                        var whole = ToolCallArguments.Text(call);
                        _text.Append(whole);
                        await WriteArgumentsDeltaAsync(whole, cancellationToken);
                        break;
                    case UsageContent counted:
                        usage = counted.Details;
                        break;
                }
            }

            finishReason = update.FinishReason ?? finishReason;
        }

        var reason = AnswerEnding.Finished(finishReason);

        var (status, incomplete) = ResponseJson.StatusOf(reason);
        await CloseAsync(status, cancellationToken);
        await WriteAsync(status == "completed" ? s_completed : s_incomplete, (status, incomplete, usage), static (json, self, s) =>
        {
            json.WritePropertyName("response"u8);
            ResponseJson.WriteResponse(json, self.Header, s.status, self._done, s.usage, s.incomplete);
        }, cancellationToken);
    }

    private ValueTask WriteArgumentsDeltaAsync(string delta, CancellationToken cancellationToken) =>
        WriteAsync(s_functionCallArgumentsDelta, delta, static (json, self, d) =>
        {
            self.WriteItemPosition(json, part: false);
            json.WriteString("delta"u8, d);
        }, cancellationToken);

    /// <summary>Closes the open item, then opens <paramref name="item"/>: its <c>output_item.added</c>, and a message's part.</summary>
    private async ValueTask OpenAsync(ResponseItem item, CancellationToken cancellationToken)
    {
        await CloseAsync("completed", cancellationToken);
        _open = item;
        await WriteAsync(s_outputItemAdded, item, static (json, self, added) =>
        {
            json.WriteNumber("output_index"u8, self._done.Count);
            json.WritePropertyName("item"u8);
            ResponseJson.WriteItem(json, added, "in_progress");
        }, cancellationToken);
        if (!item.IsCall)
        {
            await WriteAsync(s_contentPartAdded, 0, static (json, self, _) =>
            {
                self.WriteItemPosition(json, part: true);
                json.WritePropertyName("part"u8);
                ResponseJson.WriteTextPart(json, "");
            }, cancellationToken);
        }
    }

    /// <summary>
    /// Ends the open item with its whole text or arguments: the <c>.done</c> events, then <c>output_item.done</c>; the
    /// last item of an answer that ran out of tokens is <c>incomplete</c>.
    /// </summary>
    private async ValueTask CloseAsync(string status, CancellationToken cancellationToken)
    {
        if (_open is not { } open)
        {
            return;
        }

        var item = open with { Text = _text.ToString(), Status = status };
        _text.Clear();
        if (item.IsCall)
        {
            await WriteAsync(s_functionCallArgumentsDone, item, static (json, self, done) =>
            {
                self.WriteItemPosition(json, part: false);
                json.WriteString("arguments"u8, done.Text);
            }, cancellationToken);
        }
        else
        {
            await WriteAsync(s_outputTextDone, item, static (json, self, done) =>
            {
                self.WriteItemPosition(json, part: true);
                json.WriteString("text"u8, done.Text);
                json.WriteStartArray("logprobs"u8);
                json.WriteEndArray();
            }, cancellationToken);
            await WriteAsync(s_contentPartDone, item, static (json, self, done) =>
            {
                self.WriteItemPosition(json, part: true);
                json.WritePropertyName("part"u8);
                ResponseJson.WriteTextPart(json, done.Text);
            }, cancellationToken);
        }

        await WriteAsync(s_outputItemDone, item, static (json, self, done) =>
        {
            json.WriteNumber("output_index"u8, self._done.Count);
            json.WritePropertyName("item"u8);
            ResponseJson.WriteItem(json, done, done.Status);
        }, cancellationToken);
        _done.Add(item);
        _open = null;
    }

    private void WriteItemPosition(Utf8JsonWriter json, bool part)
    {
        json.WriteString("item_id"u8, _open!.Id);
        json.WriteNumber("output_index"u8, _done.Count);
        if (part)
        {
            json.WriteNumber("content_index"u8, 0);
        }
    }

    /// <summary>One named event: <c>{"type":name,"sequence_number":n, ...}</c>, the rest written by <paramref name="write"/>.</summary>
    private ValueTask WriteAsync<TState>(byte[] name, TState state, Action<Utf8JsonWriter, ResponsesStreamer, TState> write, CancellationToken cancellationToken) =>
        writer.WriteEventAsync(name, (this, name, state, write, _sequence++), static (json, s) =>
        {
            json.WriteStartObject();
            json.WriteString("type"u8, s.name);
            json.WriteNumber("sequence_number"u8, s.Item5);
            s.write(json, s.Item1, s.state);
            json.WriteEndObject();
        }, cancellationToken);
}
