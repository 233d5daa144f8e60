namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// An AppHost of its own for fault injection (killing and stopping llama-server), with short timeouts and a small
/// queue, so that other tests never see its faults.
/// </summary>
public sealed class FaultsAppFixture : GatewayAppFixture
{
    public static readonly TimeSpan FirstTokenTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(1);
    public const int QueueLimit = 2;
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromMilliseconds(300);

    protected override IEnumerable<string> AppHostArguments => ["--Llm:Prometheus:Enabled=false"];

    protected override IEnumerable<(string Name, string Value)> GatewayEnvironment =>
    [
        ("Resilience__FirstTokenTimeout", FirstTokenTimeout.ToString()),
        ("Resilience__IdleTimeout", IdleTimeout.ToString()),
        ("Resilience__QueueLimit", QueueLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Resilience__RetryDelay", "00:00:00.100"),
        ("Resilience__BreakDuration", "00:00:02"),
        ("Resilience__DrainTimeout", DrainTimeout.ToString()),
        // These faults end the answer they cut, as they do where nothing continues it; Resilience/ResumeTests continue them.
        ("Resilience__ResumeCutAnswers", "false"),
    ];
}

[CollectionDefinition(Name)]
public sealed class FaultsAppCollectionDefinition : ICollectionFixture<FaultsAppFixture>
{
    public const string Name = "faults app";
}
