using System.Text.Json;

namespace LlmApp.Gateway.Streaming;

/// <summary>Fields the APIs' answers write as a value, or as <c>null</c> where there is none.</summary>
internal static class JsonWriterExtensions
{
    public static void WriteStringOrNull(this Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    public static void WriteNumberOrNull(this Utf8JsonWriter json, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
