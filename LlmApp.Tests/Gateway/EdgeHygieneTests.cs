using System.Net;
using System.Net.Sockets;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// What the gateway does at its edge, before any model is involved: the real gateway process with a key, in front of a
/// backend that is never reached (a closed port), so each test can give it settings of its own.
/// </summary>
public sealed class EdgeHygieneTests
{
    private static readonly string s_key = ApiKeyAppFixture.NewKey();

    [Fact]
    public async Task WrongKeysFromOneAddressAreAnswered429OnceTheyPassTheLimit()
    {
        await using var gateway = await StartAsync(("Auth__MaxFailuresPerMinute", "5"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var wrong = await gateway.Client.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Get, "/v1/models", ApiKeyAppFixture.NewKey()));
            statuses.Add(wrong.StatusCode);
        }

        using var refused = await gateway.Client.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Get, "/v1/models", s_key));

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), HttpStatusCode.TooManyRequests], statuses);
        // The address is held back for a while whatever key it sends: one more guess a few seconds, not twenty a second.
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task AnUnknownPathUnderV1Is401WithoutAKeyAnd404WithOne()
    {
        await using var gateway = await StartAsync();

        using var withoutKey = await gateway.Client.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Post, "/v1/assistants", null));
        using var withKey = await gateway.Client.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Post, "/v1/assistants", s_key));
        using var wrongMethod = await gateway.Client.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Delete, "/v1/chat/completions", null));

        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task ARefusedPathWithALineBreakIsLoggedOnOneLine()
    {
        await using var gateway = await StartAsync();

        using var response = await gateway.Client.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Get, "/v1/models%0Ainfo: forged%20line", null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var line = await WaitForLineAsync(gateway, "Refused /v1/models");
        Assert.Contains("Refused /v1/models%0Ainfo:%20forged%20line with 401", line, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Output, l => l.StartsWith("info: forged", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, "127.0.0.1")]
    [InlineData("127.0.0.1", "203.0.113.9")]
    [InlineData("10.0.0.0/8", "127.0.0.1")]
    public async Task XForwardedForIsBelievedFromTrustedProxiesOnly(string? trusted, string logged)
    {
        await using var gateway = trusted is null ? await StartAsync() : await StartAsync(("Proxy__Trusted", trusted));
        using var request = ApiKeyAppFixture.Request(HttpMethod.Get, "/v1/models", null);
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.EndsWith($"remote={logged}", await WaitForLineAsync(gateway, "Refused /v1/models"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIdleConnectionIsClosedAfterTheKeepAliveTimeout()
    {
        await using var gateway = await StartAsync(("Limits__KeepAliveTimeout", "00:00:02"));
        using var idle = new TcpClient();
        await idle.ConnectAsync(IPAddress.Loopback, gateway.Address.Port);

        // Kestrel's heartbeat checks once a second: closed within the timeout and two beats.
        var closed = await ReadsEndAsync(idle, TimeSpan.FromSeconds(8));

        Assert.True(closed, "an idle connection was still open 8 s after it was made, with a keep-alive timeout of 2 s");
    }

    [Fact]
    public async Task ConnectionsPastTheLimitAreClosedAtOnce()
    {
        await using var gateway = await StartAsync(("Limits__MaxConnections", "16"));
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 24; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, gateway.Address.Port);
                clients.Add(client);
            }

            var closed = 0;
            foreach (var client in clients)
            {
                closed += await ReadsEndAsync(client, TimeSpan.FromMilliseconds(500)) ? 1 : 0;
            }

            Assert.Equal(8, closed);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task AllowedHostsRefusesAnyOtherHost()
    {
        await using var gateway = await StartAsync(("AllowedHosts", "localhost;127.0.0.1"));
        using var other = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        other.Headers.Host = "attacker.example";

        using var refused = await gateway.Client.SendAsync(other);
        using var allowed = await gateway.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    private static Task<GatewayProcess> StartAsync(params (string Name, string Value)[] settings)
    {
        var all = new Dictionary<string, string>
        {
            ["Backend__Endpoint"] = $"http://127.0.0.1:{LocalPorts.Free()}",
            ["Backend__Model"] = "tiny",
            ["Auth__Keys__0__Name"] = "app",
            ["Auth__Keys__0__Key"] = s_key,
        };
        foreach (var (name, value) in settings)
        {
            all[name] = value;
        }

        return GatewayProcess.StartAsync(all, readyPath: "/healthz");
    }

    /// <summary>Whether the server closes the connection (a read returns nothing) within <paramref name="wait"/>.</summary>
    private static async Task<bool> ReadsEndAsync(TcpClient client, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await client.GetStream().ReadAsync(new byte[1], timeout.Token) == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>The first line the gateway printed that holds <paramref name="text"/>; its console is written in batches.</summary>
    private static async Task<string> WaitForLineAsync(GatewayProcess gateway, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (gateway.Output.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the gateway printed no line with '{text}':\n{string.Join('\n', gateway.Output)}");
            await Task.Delay(100);
        }
    }
}
