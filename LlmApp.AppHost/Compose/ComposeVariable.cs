namespace LlmApp.AppHost.Compose;

/// <summary>A variable of the generated <c>.env</c>: its value there and a comment saying what it does.</summary>
public sealed record ComposeVariable(string Value, string? Description);

/// <summary>Declares a variable the resource's compose service refers to (as <c>${NAME}</c>), so <c>.env</c> lists it.</summary>
public sealed class ComposeVariableAnnotation(string name, string value, string description) : IResourceAnnotation
{
    public string Name { get; } = name;

    public ComposeVariable Variable { get; } = new(value, description);
}
