using Aspire.Hosting.Testing;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// An AppHost of its own with two llama-server replicas (<c>Llm:LlamaCpp:Replicas=2</c>, two slots each) behind the
/// gateway, for routing and failover against real processes; a small queue, so that overload is reached quickly.
/// </summary>
public sealed class ReplicasAppFixture : GatewayAppFixture
{
    public const int QueueLimit = 2;
    public const int SlotsPerReplica = 2;
    public static readonly string[] Replicas = ["llm-1", "llm-2"];

    protected override string BackendName => Replicas[0];

    protected override IEnumerable<string> AppHostArguments =>
        ["--Llm:Prometheus:Enabled=false", "--Llm:LlamaCpp:Replicas=2", $"--Llm:LlamaCpp:Parallel={SlotsPerReplica}"];

    protected override IEnumerable<(string Name, string Value)> GatewayEnvironment =>
    [
        .. base.GatewayEnvironment,
        ("Resilience__QueueLimit", QueueLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Resilience__RetryDelay", "00:00:00.100"),
        ("Resilience__BreakDuration", "00:00:02"),
    ];

    /// <summary>A client of one replica directly, with the key the replicas share.</summary>
    public HttpClient Replica(string name)
    {
        var client = new HttpClient { BaseAddress = App.GetEndpoint(name, "http"), Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", BackendKey);
        client.DefaultRequestHeaders.ConnectionClose = true;
        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicasAppCollectionDefinition : ICollectionFixture<ReplicasAppFixture>
{
    public const string Name = "replicas app";
}
