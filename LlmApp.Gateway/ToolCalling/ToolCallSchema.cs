using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.ToolCalling;

/// <summary>
/// The JSON Schema that constrains a generation to a valid tool call (or, under <c>auto</c>, to either a call or a
/// plain answer). The backend turns it into a grammar, so even a model that was never taught tools emits a call
/// whose name is one of the tools and whose arguments match that tool's parameters.
/// </summary>
internal static class ToolCallSchema
{
    public const string NameProperty = "name";
    public const string ArgumentsProperty = "arguments";
    public const string ContentProperty = "content";

    public static JsonElement For(IReadOnlyList<AIFunctionDeclaration> functions, ChatToolMode mode)
    {
        var chosen = mode is RequiredChatToolMode { RequiredFunctionName: { } name }
            ? functions.Where(f => f.Name == name)
            : functions;

        var alternatives = new JsonArray([.. chosen.Select(Call)]);
        if (mode is AutoChatToolMode)
        {
            alternatives.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { [ContentProperty] = new JsonObject { ["type"] = "string" } },
                ["required"] = new JsonArray(ContentProperty),
            });
        }

        JsonNode schema = alternatives.Count == 1 ? alternatives[0]!.DeepClone() : new JsonObject { ["anyOf"] = alternatives };
        return JsonSerializer.SerializeToElement(schema, ToolCallingJsonContext.Default.JsonNode);
    }

    private static JsonObject Call(AIFunctionDeclaration function) => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            [NameProperty] = new JsonObject { ["const"] = function.Name },
            [ArgumentsProperty] = JsonNode.Parse(function.JsonSchema.GetRawText()),
        },
        ["required"] = new JsonArray(NameProperty, ArgumentsProperty),
    };
}
