using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// A function a client declared in <c>tools</c>, kept as it came: its parameters schema is the client's JSON, never
/// re-generated or transformed, and its <c>strict</c> travels with it (as <see cref="ChatOptionKeys.StrictJsonSchema"/>,
/// where Microsoft.Extensions.AI's OpenAI adapter looks for it).
/// </summary>
internal sealed class RequestedFunction : AIFunctionDeclaration
{
    private readonly IReadOnlyDictionary<string, object?> _additionalProperties;

    public RequestedFunction(string name, string? description, JsonElement parameters, bool? strict)
    {
        Name = name;
        Description = description ?? "";
        JsonSchema = parameters;
        _additionalProperties = strict is { } value
            ? new Dictionary<string, object?> { [ChatOptionKeys.StrictJsonSchema] = value }
            : new Dictionary<string, object?>();
    }

    public override string Name { get; }

    public override string Description { get; }

    public override JsonElement JsonSchema { get; }

    public override IReadOnlyDictionary<string, object?> AdditionalProperties => _additionalProperties;
}
