using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// JSON can escape half of a UTF-16 surrogate pair on its own (<c>"\ud800"</c>), which is valid JSON but not text:
/// System.Text.Json refuses to read it as a string, wherever that happens. What the gateway passes on as written (a
/// tool's schema, a tool call's input) would only be read when it is sent on, far from the request, and fail there as a
/// 500; so a request's JSON is checked for such an escape as it is read, in its raw bytes (no string is made unless a
/// backslash-u escape of a surrogate is there), and refused as invalid text.
/// </summary>
internal static class UnicodeText
{
    /// <summary>Whether the element's JSON holds an escaped surrogate that is not half of a high-low pair.</summary>
    public static bool HasUnpairedSurrogate(JsonElement element) =>
        element.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null) && HasUnpairedSurrogate(JsonMarshal.GetRawUtf8Value(element));

    /// <summary>
    /// The same over JSON that has been parsed (so every backslash starts an escape inside a string): each <c>\uD800</c>
    /// to <c>\uDBFF</c> must be followed at once by a <c>\uDC00</c> to <c>\uDFFF</c>, and no low half may stand alone.
    /// </summary>
    public static bool HasUnpairedSurrogate(ReadOnlySpan<byte> json)
    {
        for (var i = json.IndexOf((byte)'\\'); i >= 0 && i < json.Length - 1;)
        {
            var width = 2;
            if (json[i + 1] == 'u' && CodeUnit(json, i) is { } unit)
            {
                width = 6;
                if (unit is >= 0xDC00 and <= 0xDFFF)
                {
                    return true;
                }

                if (unit is >= 0xD800 and <= 0xDBFF)
                {
                    if (json.Length < i + 12 || json[i + 6] != '\\' || json[i + 7] != 'u' || CodeUnit(json, i + 6) is not (>= 0xDC00 and <= 0xDFFF))
                    {
                        return true;
                    }

                    width = 12;
                }
            }

            var next = json[(i + width)..].IndexOf((byte)'\\');
            i = next < 0 ? -1 : i + width + next;
        }

        return false;
    }

    private static int? CodeUnit(ReadOnlySpan<byte> json, int backslash) =>
        json.Length >= backslash + 6 && Utf8Parser.TryParse(json.Slice(backslash + 2, 4), out ushort unit, out var consumed, 'X') && consumed == 4 ? unit : null;
}
