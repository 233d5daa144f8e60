namespace LlmApp.AppHost.Compose;

/// <summary>
/// The deployment's networks. The model servers are on <see cref="Backend"/> alone, which is internal: nothing on it
/// reaches outside the host, and only the gateway and Prometheus join it besides them. What publishes a port joins
/// <see cref="Edge"/>; what downloads a model joins <see cref="Downloads"/>, and nothing else.
/// </summary>
public static class ComposeNetworks
{
    public const string Backend = "backend";

    public const string Edge = "edge";

    public const string Downloads = "downloads";

    public static ComposeNetwork For(string name) => new() { Internal = name == Backend ? true : null };
}
