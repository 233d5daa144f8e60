using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.ToolCalling;

/// <summary>
/// The JSON Schema that constrains a generation to tool calls (or, under <c>auto</c>, to either calls or a plain
/// answer). The backend turns it into a grammar, so even a model that was never taught tools emits calls whose names
/// are among the tools and whose arguments match that tool's parameters, the client's schema as it came.
/// </summary>
/// <remarks>
/// The shape: <c>{"tool_calls":[{"name":...,"arguments":{...}}, ...]}</c>, one call at most when parallel calls are
/// off; under <c>auto</c>, <c>{"content":"..."}</c> as the other choice. The name comes before the arguments (llama.cpp's
/// grammar keeps the order of <c>properties</c>), so that a call's first piece can go out before its arguments do.
/// </remarks>
internal static class ToolCallSchema
{
    public const string ToolCallsProperty = "tool_calls";
    public const string NameProperty = "name";
    public const string ArgumentsProperty = "arguments";
    public const string ContentProperty = "content";

    public static JsonElement For(IReadOnlyList<AIFunctionDeclaration> functions, ChatToolMode mode, bool parallel)
    {
        var chosen = mode is RequiredChatToolMode { RequiredFunctionName: { } name }
            ? functions.Where(f => f.Name == name)
            : functions;

        var calls = new JsonArray([.. chosen.Select(Call)]);
        var array = new JsonObject
        {
            ["type"] = "array",
            ["items"] = calls.Count == 1 ? calls[0]!.DeepClone() : new JsonObject { ["anyOf"] = calls },
            ["minItems"] = 1,
        };
        if (!parallel)
        {
            array["maxItems"] = 1;
        }

        JsonNode schema = Object(ToolCallsProperty, array);
        if (mode is AutoChatToolMode)
        {
            schema = new JsonObject { ["anyOf"] = new JsonArray(Object(ContentProperty, new JsonObject { ["type"] = "string" }), schema) };
        }

        return JsonSerializer.SerializeToElement(schema, ToolCallingJsonContext.Default.JsonNode);
    }

    private static JsonObject Object(string property, JsonNode schema) => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject { [property] = schema },
        ["required"] = new JsonArray(property),
        ["additionalProperties"] = false,
    };

    private static JsonObject Call(AIFunctionDeclaration function) => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            [NameProperty] = new JsonObject { ["const"] = function.Name },
            [ArgumentsProperty] = JsonNode.Parse(function.JsonSchema.GetRawText()),
        },
        ["required"] = new JsonArray(NameProperty, ArgumentsProperty),
        ["additionalProperties"] = false,
    };
}
