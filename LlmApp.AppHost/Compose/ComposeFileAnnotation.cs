namespace LlmApp.AppHost.Compose;

/// <summary>
/// Adjusts the whole compose file once every service is in it: what one resource needs of others (a check that must
/// pass before they start). Applied after every <see cref="ComposeServiceAnnotation"/>.
/// </summary>
public sealed class ComposeFileAnnotation(Action<ComposeFile> configure) : IResourceAnnotation
{
    public Action<ComposeFile> Configure { get; } = configure;
}
