using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// Maps <c>response_format</c> (text, json_object, json_schema) onto <see cref="ChatResponseFormat"/>. The schema is
/// kept as the client's JSON, every keyword in it, and goes to the backend as it came (see BackendRequestWriter).
/// </summary>
internal static class ResponseFormatMapper
{
    public static bool TryMap(JsonElement format, out ChatResponseFormat? result, out bool? strict, [NotNullWhen(false)] out RequestError? error)
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
            error = new("'response_format' must be an object with a 'type'.", "response_format");
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
                if (!format.TryGetProperty("json_schema", out var jsonSchema) || jsonSchema.ValueKind != JsonValueKind.Object ||
                    !jsonSchema.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    error = new("'response_format.json_schema' must be an object with a 'name' and a 'schema'.", "response_format.json_schema");
                    return false;
                }

                if (!jsonSchema.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    error = new("'response_format.json_schema.schema' must be a JSON Schema object.", "response_format.json_schema.schema");
                    return false;
                }

                if (!SchemaDepth.IsWithinLimit(schema))
                {
                    error = SchemaDepth.TooDeep("response_format.json_schema.schema");
                    return false;
                }

                if (jsonSchema.TryGetProperty("strict", out var strictValue) && strictValue.ValueKind is not JsonValueKind.Null)
                {
                    if (strictValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        error = new("'response_format.json_schema.strict' must be a boolean.", "response_format.json_schema.strict");
                        return false;
                    }

                    strict = strictValue.GetBoolean();
                }

                var description = jsonSchema.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                result = ChatResponseFormat.ForJsonSchema(schema.Clone(), name.GetString(), description);
                return true;

            default:
                error = new($"'{type.GetString()}' is not a valid response_format type: use 'text', 'json_object' or 'json_schema'.", "response_format.type");
                return false;
        }
    }
}
