namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// An AppHost, and so a llama-server, of its own for the reproduction of a cut answer: sampling at temperature 1 with
/// a seed is deterministic only while nothing else runs on the same server, and other tests' requests would shift it.
/// </summary>
public sealed class IntegrityAppFixture : GatewayAppFixture
{
    protected override IEnumerable<string> AppHostArguments => ["--Llm:Prometheus:Enabled=false"];
}

[CollectionDefinition(Name)]
public sealed class IntegrityAppCollectionDefinition : ICollectionFixture<IntegrityAppFixture>
{
    public const string Name = "integrity app";
}
