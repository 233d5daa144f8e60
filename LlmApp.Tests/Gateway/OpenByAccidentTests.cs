using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Configuration;
using Microsoft.Extensions.Configuration;
using LlmApp.ApiKeys;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// Whether a gateway without keys may start: where it listens, or where its container's port is published, decides.
/// The refusals are also run through the real process (<c>GatewaySettingsErrorTests</c>); the starts are checked here,
/// so that no test listens on every interface.
/// </summary>
public sealed class OpenByAccidentTests
{
    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.1.2.3", true)]
    [InlineData("[::1]", true)]
    [InlineData("::1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("*", false)]
    [InlineData("+", false)]
    [InlineData("[::]", false)]
    [InlineData("10.0.1.5", false)]
    [InlineData("gateway.example", false)]
    public void OnlyThisMachinesAddressesAreLoopback(string host, bool loopback) =>
        Assert.Equal(loopback, ListenAddresses.IsLoopback(host));

    [Theory]
    [InlineData("http://localhost:8000", "localhost")]
    [InlineData("http://0.0.0.0:8080/", "0.0.0.0")]
    [InlineData("https://[::1]:443", "[::1]")]
    [InlineData("http://*:8080", "*")]
    [InlineData("http://+", "+")]
    public void TheHostOfAnAddressIsRead(string address, string host) => Assert.Equal(host, ListenAddresses.HostOf(address));

    [Fact]
    public void NothingConfiguredIsAspNetCoresDefaultOnLocalhost() =>
        Assert.Equal(["http://localhost:5000"], ListenAddresses.From(Configuration()));

    [Fact]
    public void EveryPlaceKestrelTakesAddressesFromIsRead() =>
        Assert.Equal(
            ["http://127.0.0.1:1", "http://*:8080", "https://*:8443", "http://0.0.0.0:9000"],
            ListenAddresses.From(Configuration(
                ("urls", "http://127.0.0.1:1"), ("http_ports", "8080"), ("https_ports", "8443"), ("Kestrel:Endpoints:Api:Url", "http://0.0.0.0:9000"))));

    [Theory]
    [InlineData("http://localhost:8000", null, false, true)]
    [InlineData("http://127.0.0.1:8000;http://[::1]:8000", null, false, true)]
    [InlineData("http://0.0.0.0:8080", null, false, false)]
    [InlineData("http://0.0.0.0:8080", null, true, true)]
    [InlineData("http://*:8080", "127.0.0.1", false, true)]
    [InlineData("http://*:8080", "0.0.0.0", false, false)]
    [InlineData("http://*:8080", "0.0.0.0", true, true)]
    [InlineData("http://localhost:8000", "0.0.0.0", false, false)]
    public void AGatewayWithoutKeysStartsOnlyOnLoopbackOrWhenAskedTo(string urls, string? published, bool allowAnonymous, bool starts)
    {
        var validator = new ApiKeysValidator(Configuration(("urls", urls)));

        var result = validator.Validate(null, new AuthOptions { PublishedAddress = published, AllowAnonymous = allowAnonymous });

        Assert.Equal(starts, result.Succeeded);
    }

    [Fact]
    public void AGatewayWithAKeyStartsAnywhere()
    {
        var validator = new ApiKeysValidator(Configuration(("urls", "http://0.0.0.0:8080")));

        var result = validator.Validate(null, new AuthOptions { Keys = [new ApiKeyEntry { Name = "app", Key = "sk-1" }] });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
