using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Setup;

/// <summary>The gateway on its own with bad settings: one line per problem naming the setting, exit 1, no stack trace.</summary>
public sealed class GatewaySettingsErrorTests
{
    [Fact]
    public async Task EveryBadSettingIsNamedOnItsOwnLine()
    {
        var result = await RunGatewayAsync(new()
        {
            ["Backend__Endpoint"] = "ftp://models.example",
            ["Backend__Model"] = "",
            ["Resilience__IdleTimeout"] = "00:00:00",
            ["Slo__TimeToFirstToken"] = "00:00:00",
            ["Slo__MinTokensPerSecond"] = "0",
        });

        Assert.Equal(1, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.StartsWith("gateway: error: ", line, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Backend:Endpoint must be an absolute http or https URL", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Backend:Model", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Resilience:IdleTimeout", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Slo:TimeToFirstToken", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Slo:MinTokensPerSecond", StringComparison.Ordinal));
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task AnUnknownBackendKindIsNamed()
    {
        var result = await RunGatewayAsync(new() { ["Backend__Endpoint"] = "http://127.0.0.1:1", ["Backend__Model"] = "m", ["Backend__Kind"] = "tgi" });

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'Backend:Kind'", line, StringComparison.Ordinal);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task ABadListOfBackendsIsNamedOneLineAProblem()
    {
        var result = await RunGatewayAsync(new()
        {
            ["Backend__Model"] = "m",
            ["Backend__Backends__0__Name"] = "llm-1",
            ["Backend__Backends__0__Endpoint"] = "http://127.0.0.1:1",
            ["Backend__Backends__1__Name"] = "llm-1",
            ["Backend__Backends__1__Endpoint"] = "models.example:8080",
            ["Backend__Backends__2__Name"] = "llm-3",
            ["Backend__Backends__2__Endpoint"] = "http://127.0.0.1:3",
            ["Backend__Backends__2__Capacity"] = "0",
        });

        Assert.Equal(1, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("gateway: error: Backend:Backends:1:Name 'llm-1' is also Backend:Backends:0:Name; each backend needs a name of its own.", lines);
        Assert.Contains(lines, l => l.StartsWith("gateway: error: Backend:Backends:1:Endpoint must be an absolute http or https URL", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gateway: error: Backend:Backends:2:Capacity must be a positive number", StringComparison.Ordinal));
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task NoBackendAtAllIsNamed()
    {
        var result = await RunGatewayAsync(new() { ["Backend__Model"] = "m" });

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("gateway: error: Backend:Endpoint is required", line, StringComparison.Ordinal);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task AMissingKeysFileAndAnEmptyKeyAreNamed()
    {
        var result = await RunGatewayAsync(new()
        {
            ["Backend__Endpoint"] = "http://127.0.0.1:1",
            ["Backend__Model"] = "m",
            ["Auth__KeysFile"] = "/nowhere/keys.json",
            ["Auth__Keys__0__Name"] = "ci",
            ["Auth__Keys__0__Key"] = "",
        });

        Assert.Equal(1, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("gateway: error: Auth:KeysFile points at '/nowhere/keys.json', which does not exist.", lines);
        Assert.Contains("gateway: error: Auth:Keys:0 ('ci') has an empty key.", lines);
        AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("ASPNETCORE_URLS", "http://0.0.0.0:0", "listening on http://0.0.0.0:0")]
    [InlineData("ASPNETCORE_URLS", "http://127.0.0.1:0;http://[::]:0", "listening on http://[::]:0")]
    [InlineData("HTTP_PORTS", "0", "listening on http://*:0")]
    [InlineData("Auth__PublishedAddress", "0.0.0.0", "published on 0.0.0.0")]
    public async Task WithoutAKeyItDoesNotStartWhereOtherMachinesCanReachIt(string setting, string value, string where)
    {
        var settings = new Dictionary<string, string> { ["Backend__Endpoint"] = "http://127.0.0.1:1", ["Backend__Model"] = "m" };
        var result = await RunGatewayAsync(settings, (setting, value));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(
            $"gateway: error: No API key is configured and /v1 would be open to other machines ({where}): set Auth:Keys or Auth:KeysFile " +
            "(compose: LLMAPP_API_KEY or LLMAPP_API_KEYS_DIR; dotnet run: Llm:ApiKey or Llm:ApiKeysFile), or " +
            "Auth:AllowAnonymous=true (compose: LLMAPP_ALLOW_ANONYMOUS=true) to serve it without keys on purpose.", line);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task AKeysFileThatIsADirectoryIsNamed()
    {
        var directory = TestPaths.NewScratchDirectory();

        var result = await RunGatewayAsync(new() { ["Backend__Endpoint"] = "http://127.0.0.1:1", ["Backend__Model"] = "m", ["Auth__KeysFile"] = directory });

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"gateway: error: Auth:KeysFile '{directory}' is a directory, not a keys file.", result.StandardError.Trim());
        AssertNoStackTrace(result);
    }

    private static Task<CommandRunner.Result> RunGatewayAsync(Dictionary<string, string> settings, (string Name, string Value) listen)
    {
        settings[listen.Name] = listen.Value;
        return ProjectProcess.RunAsync("LlmApp.Gateway", [], settings);
    }

    private static Task<CommandRunner.Result> RunGatewayAsync(Dictionary<string, string> settings)
    {
        // Never listen anywhere that matters, in case the settings were good after all.
        settings["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        return ProjectProcess.RunAsync("LlmApp.Gateway", [], settings);
    }

    private static void AssertNoStackTrace(CommandRunner.Result result)
    {
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Output, StringComparison.Ordinal);
    }
}
