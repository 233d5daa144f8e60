using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// Maps <c>response_format</c> (text, json_object, json_schema) onto <see cref="ChatResponseFormat"/>, and the
/// Responses API's <c>text.format</c>, the same with a json_schema's fields on the format itself. The schema is kept as
/// the client's JSON, every keyword in it, and goes to the backend as it came (see BackendRequestWriter).
/// </summary>
internal static class ResponseFormatMapper
{
    /// <summary>The chat API's <c>response_format</c>: a json_schema's name, schema and strict under <c>json_schema</c>.</summary>
    public static bool TryMap(JsonElement format, out ChatResponseFormat? result, out bool? strict, [NotNullWhen(false)] out RequestError? error) =>
        TryMap(format, "response_format", nested: true, out result, out strict, out error);

    /// <summary>The Responses API's <c>text.format</c>: a json_schema's name, schema and strict on the format itself.</summary>
    public static bool TryMapTextFormat(JsonElement format, out ChatResponseFormat? result, out bool? strict, [NotNullWhen(false)] out RequestError? error) =>
        TryMap(format, "text.format", nested: false, out result, out strict, out error);

    private static bool TryMap(JsonElement format, string param, bool nested, out ChatResponseFormat? result, out bool? strict,
        [NotNullWhen(false)] out RequestError? error)
    {
        result = null;
        strict = null;
        error = null;
        if (format.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return true;
        }

        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            error = new($"'{param}' must be an object with a 'type'.", param);
            return false;
        }

        switch (type.GetString())
        {
            case "text":
                result = ChatResponseFormat.Text;
                return true;

            case "json_object":
                result = ChatResponseFormat.Json;
                return true;

            case "json_schema":
                var (jsonSchema, at) = nested ? (format.TryGetProperty("json_schema", out var inner) ? inner : default, $"{param}.json_schema") : (format, param);
                if (jsonSchema.ValueKind != JsonValueKind.Object || !jsonSchema.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    error = new($"'{at}' must be an object with a 'name' and a 'schema'.", at);
                    return false;
                }

                if (!jsonSchema.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    error = new($"'{at}.schema' must be a JSON Schema object.", $"{at}.schema");
                    return false;
                }

                if (!SchemaDepth.IsWithinLimit(schema))
                {
                    error = SchemaDepth.TooDeep($"{at}.schema");
                    return false;
                }

                if (jsonSchema.TryGetProperty("strict", out var strictValue) && strictValue.ValueKind is not JsonValueKind.Null)
                {
                    if (strictValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        error = new($"'{at}.strict' must be a boolean.", $"{at}.strict");
                        return false;
                    }

                    strict = strictValue.GetBoolean();
                }

                var description = jsonSchema.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                result = ChatResponseFormat.ForJsonSchema(schema.Clone(), name.GetString(), description);
                return true;

            default:
                error = new($"'{type.GetString()}' is not a valid {param} type: use 'text', 'json_object' or 'json_schema'.", $"{param}.type");
                return false;
        }
    }
}
