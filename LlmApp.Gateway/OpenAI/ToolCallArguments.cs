using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// A tool call's <c>arguments</c> as JSON text. The text a client sent or a model generated travels with the call as
/// its <see cref="AIContent.RawRepresentation"/> and is passed on exactly; only a call without it (one made in .NET)
/// is serialised, compactly, as OpenAI writes arguments.
/// </summary>
internal static class ToolCallArguments
{
    private static readonly JsonTypeInfo<IDictionary<string, object?>> s_arguments = (JsonTypeInfo<IDictionary<string, object?>>)new JsonSerializerOptions(AIJsonUtilities.DefaultOptions)
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }.GetTypeInfo(typeof(IDictionary<string, object?>));

    /// <summary>A call whose arguments are <paramref name="text"/>, parsed when they parse (a call cut short does not).</summary>
    public static FunctionCallContent Call(string callId, string name, string text) =>
        new(callId, name, TryParse(text, out var arguments) ? arguments : null) { RawRepresentation = text };

    public static string Text(FunctionCallContent call) =>
        call.RawRepresentation as string ?? JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), s_arguments);

    /// <summary>Arguments as a JSON object's properties; empty text is no arguments.</summary>
    public static bool TryParse(string? json, out Dictionary<string, object?>? arguments)
    {
        arguments = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            arguments = [];
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            arguments = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
