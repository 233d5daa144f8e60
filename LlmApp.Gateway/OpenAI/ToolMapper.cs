using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>Maps <c>tools</c> and <c>tool_choice</c> onto function declarations and a <see cref="ChatToolMode"/>.</summary>
internal static partial class ToolMapper
{
    /// <summary>The parameters of a function that declares none.</summary>
    public static readonly JsonElement EmptyParameters = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;

    public static bool TryMap(
        IReadOnlyList<ChatCompletionTool?>? tools, JsonElement toolChoice,
        out IList<AITool>? declarations, out ChatToolMode? mode,
        [NotNullWhen(false)] out RequestError? error)
    {
        declarations = null;
        mode = null;
        error = null;

        if (tools is { Count: > 0 })
        {
            declarations = new List<AITool>(tools.Count);
            for (var i = 0; i < tools.Count; i++)
            {
                if (!TryDeclare(tools[i], $"tools[{i}]", out var declaration, out error))
                {
                    return false;
                }

                declarations.Add(declaration);
            }
        }

        return TryReadChoice(toolChoice, declarations, out mode, out error);
    }

    private static bool TryDeclare(ChatCompletionTool? tool, string param, [NotNullWhen(true)] out AIFunctionDeclaration? declaration, [NotNullWhen(false)] out RequestError? error)
    {
        declaration = null;
        error = null;
        if (tool is null || tool.Type != "function" || tool.Function is null)
        {
            error = new($"'{param}' must be an object with type 'function' and a 'function'.", param);
            return false;
        }

        return TryDeclare(tool.Function.Name, tool.Function.Description, tool.Function.Parameters, tool.Function.Strict, $"{param}.function", out declaration, out error);
    }

    /// <summary>
    /// A function the client declares, as OpenAI's APIs take one (the chat API under <c>function</c>, the Responses API
    /// flat), at <paramref name="param"/>: its name, and its parameters, a JSON Schema object (none: no parameters).
    /// </summary>
    public static bool TryDeclare(string? name, string? description, JsonElement parameters, bool? strict, string param,
        [NotNullWhen(true)] out AIFunctionDeclaration? declaration, [NotNullWhen(false)] out RequestError? error)
    {
        declaration = null;
        error = null;
        if (name is null || !FunctionName().IsMatch(name))
        {
            error = new($"'{param}.name' must be 1 to 64 letters, digits, underscores or dashes.", $"{param}.name");
            return false;
        }

        if (parameters.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            parameters = EmptyParameters;
        }
        else if (parameters.ValueKind != JsonValueKind.Object)
        {
            error = new($"'{param}.parameters' must be a JSON Schema object.", $"{param}.parameters");
            return false;
        }
        else if (!SchemaDepth.IsWithinLimit(parameters))
        {
            error = SchemaDepth.TooDeep($"{param}.parameters");
            return false;
        }

        declaration = new RequestedFunction(name, description, parameters.Clone(), strict);
        return true;
    }

    private static bool TryReadChoice(JsonElement choice, IList<AITool>? tools, out ChatToolMode? mode, [NotNullWhen(false)] out RequestError? error)
    {
        mode = null;
        error = null;
        switch (choice.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                mode = tools is null ? null : ChatToolMode.Auto;
                return true;

            case JsonValueKind.String when choice.GetString() is "none":
                mode = ChatToolMode.None;
                return true;

            case JsonValueKind.String when choice.GetString() is "auto" or "required":
                if (tools is null)
                {
                    error = new($"'tool_choice' is '{choice.GetString()}' but no 'tools' were given.", "tool_choice");
                    return false;
                }

                mode = choice.GetString() == "auto" ? ChatToolMode.Auto : ChatToolMode.RequireAny;
                return true;

            case JsonValueKind.Object
                when choice.TryGetProperty("type", out var type) && type.ValueEquals("function") &&
                     choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object &&
                     function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                var functionName = name.GetString()!;
                if (tools?.Any(t => t.Name == functionName) != true)
                {
                    error = new($"'tool_choice' names the function '{functionName}', which is not among 'tools'.", "tool_choice");
                    return false;
                }

                mode = ChatToolMode.RequireSpecific(functionName);
                return true;

            default:
                error = new("'tool_choice' must be 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}.", "tool_choice");
                return false;
        }
    }

    /// <summary>
    /// Whether the model may make more than one call: never when the choice names a function (exactly one call of it,
    /// as vLLM makes it, on every API), else as the client asked (null: the backend's default).
    /// </summary>
    public static bool? AllowMultipleCalls(ChatToolMode? mode, bool? requested) =>
        mode is RequiredChatToolMode { RequiredFunctionName: not null } ? false : requested;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();

    /// <summary>Whether <paramref name="name"/> is a function name OpenAI and Anthropic both take: 1 to 64 letters, digits, underscores or dashes.</summary>
    public static bool IsFunctionName(string name) => FunctionName().IsMatch(name);
}
