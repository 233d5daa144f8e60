using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// JSON passed on as it was written (a request's tools, a backend's logprobs) goes into an SSE <c>data:</c> line, where
/// a line break would end the event in the middle of its JSON. A client may well send indented JSON (the OpenAI .NET
/// SDK does, for a function's parameters), so any such value is rewritten without its whitespace first.
/// </summary>
internal static class CompactJson
{
    // Non-ASCII text stays as it came, as everywhere the gateway writes JSON for a client.
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The element's JSON as written when it has no line break, otherwise the same JSON without whitespace.</summary>
    public static string Of(JsonElement element)
    {
        var raw = element.GetRawText();
        return raw.AsSpan().IndexOfAny('\r', '\n') < 0 ? raw : System.Text.Encoding.UTF8.GetString(Rewrite(element));
    }

    /// <summary>The bytes when they have no line break, otherwise the same JSON without whitespace.</summary>
    public static byte[] Of(ReadOnlySpan<byte> json)
    {
        if (json.IndexOfAny((byte)'\r', (byte)'\n') < 0)
        {
            return json.ToArray();
        }

        using var document = JsonDocument.Parse(json.ToArray());
        return Rewrite(document.RootElement);
    }

    private static byte[] Rewrite(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            element.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
