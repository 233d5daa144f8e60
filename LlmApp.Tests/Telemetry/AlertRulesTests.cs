using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Telemetry;

/// <summary>
/// The SLO's alert rules (containers/prometheus/alerts.yml), checked by Prometheus's own promtool: valid, and firing on
/// slow first tokens and slow streams but not on a healthy service (alerts.test.yml).
/// </summary>
public sealed class AlertRulesTests
{
    private static readonly string s_rules = Path.Combine(TestPaths.RepositoryRoot, "containers", "prometheus");

    [SkippableFact]
    public async Task TheRulesAreValid()
    {
        OptionalTool.Promtool.SkipUnlessInstalled();
        var check = await CommandRunner.RunAsync("promtool", ["check", "rules", "alerts.yml"], s_rules);

        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 2 rules found", check.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheyFireOnSlowFirstTokensAndSlowStreamsAndNotOnAHealthyService()
    {
        OptionalTool.Promtool.SkipUnlessInstalled();
        var test = await CommandRunner.RunAsync("promtool", ["test", "rules", "alerts.test.yml"], s_rules);

        Assert.True(test.ExitCode == 0, test.Output);
    }

    [Fact]
    public async Task ThePrometheusImageLoadsThem()
    {
        var configuration = await File.ReadAllTextAsync(Path.Combine(s_rules, "prometheus.yml"));
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(s_rules, "Dockerfile"));

        Assert.Contains("rule_files:\n  - /etc/prometheus/alerts.yml\n", configuration, StringComparison.Ordinal);
        Assert.Contains("COPY prometheus.yml alerts.yml /etc/prometheus/", dockerfile, StringComparison.Ordinal);
    }
}
