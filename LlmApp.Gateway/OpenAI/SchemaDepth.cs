using System.Text.Json;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// How deeply a JSON Schema a client sends may nest. The gateway wraps a tool's parameters in schemas of its own for
/// constrained tool calls (and the backend parses them again), so a schema near System.Text.Json's limit of 64 levels
/// would pass the request's parsing and fail when written on: refused here with 400 instead. Real schemas seldom pass 10.
/// </summary>
internal static class SchemaDepth
{
    public const int Max = 32;

    /// <summary>Whether <paramref name="schema"/> nests at most <see cref="Max"/> objects and arrays deep.</summary>
    public static bool IsWithinLimit(JsonElement schema) => Depth(schema, 0) <= Max;

    public static RequestError TooDeep(string param) =>
        new($"'{param}' nests more than {Max} levels of objects and arrays; this server takes schemas up to {Max} deep.", param);

    private static int Depth(JsonElement element, int level)
    {
        if (level > Max)
        {
            return level;
        }

        return element.ValueKind switch
        {
            JsonValueKind.Object => element.EnumerateObject().Select(p => Depth(p.Value, level + 1)).DefaultIfEmpty(level + 1).Max(),
            JsonValueKind.Array => element.EnumerateArray().Select(e => Depth(e, level + 1)).DefaultIfEmpty(level + 1).Max(),
            _ => level,
        };
    }
}
