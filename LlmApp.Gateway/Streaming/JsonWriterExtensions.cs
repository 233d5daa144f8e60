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

    /// <summary>A float as the float it is: widened to a double, 0.7 would be written 0.699999988079071.</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter json, ReadOnlySpan<byte> name, float? value)
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

    public static void WriteNumberOrNull(this Utf8JsonWriter json, ReadOnlySpan<byte> name, int? value)
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
