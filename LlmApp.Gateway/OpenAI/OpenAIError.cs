using System.Text.Json.Serialization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>The OpenAI error envelope: <c>{"error":{"message","type","param","code"}}</c>, with <c>code</c> a string or null.</summary>
public sealed record OpenAIErrorResponse(OpenAIError Error);

public sealed record OpenAIError(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);
