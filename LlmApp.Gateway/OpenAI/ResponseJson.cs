using System.Security.Cryptography;
using System.Text.Json;
using LlmApp.Gateway.Streaming;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// What a Responses API answer repeats of its request as the request wrote it (its JSON without line breaks, or null
/// where it was not given): its <c>tools</c>, <c>tool_choice</c>, <c>text</c> and <c>metadata</c>.
/// </summary>
internal sealed record ResponseEcho(string? Tools, string? ToolChoice, string? Text, string? Metadata)
{
    public static ResponseEcho Of(JsonElement body) => new(Raw(body, "tools"), Raw(body, "tool_choice"), Raw(body, "text"), Raw(body, "metadata"));

    private static string? Raw(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? CompactJson.Of(value) : null;
}

/// <summary>What a Responses API answer repeats of its request, and its identity: one per request.</summary>
internal sealed record ResponseHeader(
    string Id, long CreatedAt, string Model, string? Instructions, int? MaxOutputTokens, float? Temperature, float? TopP, bool ParallelToolCalls, ResponseEcho Echo)
{
    public static ResponseHeader For(MappedChatRequest request, ResponseEcho echo, string model) => new(
        ResponseJson.NewId("resp_"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model,
        request.Messages.Count > 0 && request.Messages[0].Role == ChatRole.System ? request.Messages[0].Text : null,
        request.Options.MaxOutputTokens, request.Options.Temperature, request.Options.TopP, request.Options.AllowMultipleToolCalls ?? true, echo);
}

/// <summary>
/// An output item of a response as it is written: a message's text, or a function call. Its status is
/// <c>completed</c>, or <c>incomplete</c> for the last item of an answer that ran out of tokens (a call's arguments then
/// are not whole JSON).
/// </summary>
internal sealed record ResponseItem(string Id, bool IsCall, string Text, string? CallId = null, string? Name = null, string Status = "completed");

/// <summary>
/// The OpenAI Responses API's <c>response</c> object and its items, written with <see cref="Utf8JsonWriter"/>: its
/// <c>status</c> (<c>completed</c>, <c>incomplete</c> with <c>incomplete_details.reason</c>, <c>failed</c> with
/// <c>error</c>, <c>in_progress</c> while it streams), <c>output</c> (<c>message</c> items with an
/// <c>output_text</c> part, <c>function_call</c> items) and <c>usage</c> (cached input tokens included).
/// </summary>
internal static class ResponseJson
{
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string NewId(string prefix) => prefix + RandomNumberGenerator.GetString(IdAlphabet, 32);

    /// <summary><c>completed</c>, or <c>incomplete</c> with the reason (<c>max_output_tokens</c>, <c>content_filter</c>).</summary>
    public static (string Status, string? Incomplete) StatusOf(ChatFinishReason? reason) => reason switch
    {
        { } r when r == ChatFinishReason.Length => ("incomplete", "max_output_tokens"),
        { } r when r == ChatFinishReason.ContentFilter => ("incomplete", "content_filter"),
        _ => ("completed", null),
    };

    /// <summary>
    /// The items of a whole answer, in the order generated: its text as one message, each call as its own item; the
    /// last is <c>incomplete</c> when the answer is.
    /// </summary>
    public static List<ResponseItem> ItemsOf(ChatResponse response)
    {
        var items = new List<ResponseItem>();
        foreach (var (text, call) in AnswerParts.Of(response))
        {
            items.Add(call is null
                ? new(NewId("msg_"), IsCall: false, text!)
                : new(NewId("fc_"), IsCall: true, ToolCallArguments.Text(call), call.CallId, call.Name));
        }

        if (items.Count > 0 && StatusOf(response.FinishReason).Status == "incomplete")
        {
            items[^1] = items[^1] with { Status = "incomplete" };
        }

        return items;
    }

    /// <summary>The response object; <paramref name="items"/> null while it streams (an empty output).</summary>
    public static void WriteResponse(Utf8JsonWriter json, ResponseHeader header, string status, IReadOnlyList<ResponseItem>? items, UsageDetails? usage,
        string? incomplete = null, (string Code, string Message)? error = null)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, header.Id);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, header.CreatedAt);
        json.WriteString("status"u8, status);
        if (error is { } failed)
        {
            json.WriteStartObject("error"u8);
            json.WriteString("code"u8, failed.Code);
            json.WriteString("message"u8, failed.Message);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("error"u8);
        }

        if (incomplete is not null)
        {
            json.WriteStartObject("incomplete_details"u8);
            json.WriteString("reason"u8, incomplete);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details"u8);
        }

        json.WriteStringOrNull("instructions"u8, header.Instructions);
        json.WriteNumberOrNull("max_output_tokens"u8, header.MaxOutputTokens);
        json.WriteString("model"u8, header.Model);
        json.WriteStartArray("output"u8);
        foreach (var item in items ?? [])
        {
            WriteItem(json, item, item.Status);
        }

        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls"u8, header.ParallelToolCalls);
        json.WriteNull("previous_response_id"u8);
        json.WriteBoolean("store"u8, false);
        json.WriteNumberOrNull("temperature"u8, header.Temperature);
        json.WriteNumberOrNull("top_p"u8, header.TopP);
        WriteRawOr(json, "text"u8, header.Echo.Text, """{"format":{"type":"text"}}""");
        WriteRawOr(json, "tool_choice"u8, header.Echo.ToolChoice, "\"auto\"");
        WriteRawOr(json, "tools"u8, header.Echo.Tools, "[]");
        json.WriteString("truncation"u8, "disabled"u8);
        WriteRawOr(json, "metadata"u8, header.Echo.Metadata, "{}");
        if (usage is null)
        {
            json.WriteNull("usage"u8);
        }
        else
        {
            json.WriteStartObject("usage"u8);
            json.WriteNumber("input_tokens"u8, usage.InputTokenCount ?? 0);
            json.WriteStartObject("input_tokens_details"u8);
            json.WriteNumber("cached_tokens"u8, usage.CachedInputTokenCount ?? 0);
            json.WriteEndObject();
            json.WriteNumber("output_tokens"u8, usage.OutputTokenCount ?? 0);
            json.WriteStartObject("output_tokens_details"u8);
            json.WriteNumber("reasoning_tokens"u8, 0);
            json.WriteEndObject();
            json.WriteNumber("total_tokens"u8, (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0));
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>An output item: a message with its one <c>output_text</c> part, or a function call with its arguments so far.</summary>
    public static void WriteItem(Utf8JsonWriter json, ResponseItem item, string status)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, item.Id);
        if (item.IsCall)
        {
            json.WriteString("type"u8, "function_call"u8);
            json.WriteString("status"u8, status);
            json.WriteString("call_id"u8, item.CallId);
            json.WriteString("name"u8, item.Name);
            json.WriteString("arguments"u8, item.Text);
        }
        else
        {
            json.WriteString("type"u8, "message"u8);
            json.WriteString("status"u8, status);
            json.WriteString("role"u8, "assistant"u8);
            json.WriteStartArray("content"u8);
            if (status != "in_progress")
            {
                WriteTextPart(json, item.Text);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    public static void WriteTextPart(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "output_text"u8);
        json.WriteString("text"u8, text);
        json.WriteStartArray("annotations"u8);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>A field as the request wrote it, or its default.</summary>
    private static void WriteRawOr(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? raw, string otherwise)
    {
        json.WritePropertyName(name);
        json.WriteRawValue(raw ?? otherwise, skipInputValidation: true);
    }
}
