namespace LlmApp.AppHost.Compose;

/// <summary>
/// Adjusts the compose service the publisher made from a resource: what the app model cannot say (limits, health
/// checks, restart policy, published ports, compose-only mounts). Applied after the model's own settings.
/// </summary>
public sealed class ComposeServiceAnnotation(Action<ComposeService> configure) : IResourceAnnotation
{
    public Action<ComposeService> Configure { get; } = configure;
}
