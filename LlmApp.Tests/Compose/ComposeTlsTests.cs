using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using LlmApp.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace LlmApp.Tests.Compose;

/// <summary>
/// <c>LLMAPP_TLS_DIR</c> for real: a certificate made with openssl for localhost, the generated compose file brought up
/// with it (on the images the stack fixture built), and the official .NET SDK, trusting that certificate and nothing
/// else, served over HTTPS on the published port. A project of its own, taken down afterwards.
/// </summary>
[Collection(ComposeStackCollectionDefinition.Name)]
public sealed class ComposeTlsTests(ComposeStackFixture fixture, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task WithATlsDirectoryTheApiSpeaksHttpsToAClientThatTrustsItsCertificate()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var tls = TestPaths.NewScratchDirectory();
        var made = await CommandRunner.RunAsync("openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], tls);
        Assert.True(made.ExitCode == 0, made.Output);
        // The gateway's user (uid 1654) reads them, as the README asks of an operator's files.
        await CommandRunner.RunAsync("chmod", ["-R", "a+rX", tls], tls);

        var generated = await ComposeGeneration.GenerateAsync();
        var port = LocalPorts.Free();
        var key = "sk-tls-" + Guid.NewGuid().ToString("N");
        var compose = new DockerCompose("llmapp-compose-tls", Path.Combine(generated, "docker-compose.yml"), Path.Combine(generated, ".env"),
            new Dictionary<string, string>
            {
                ["LLMAPP_MODEL_FILE"] = TestPaths.TestModel,
                ["LLMAPP_SERVED_MODEL"] = ComposeStackFixture.ServedModel,
                ["LLMAPP_GATEWAY_BIND"] = "127.0.0.1",
                ["LLMAPP_GATEWAY_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["LLMAPP_PROMETHEUS_PORT"] = LocalPorts.Free().ToString(CultureInfo.InvariantCulture),
                ["LLMAPP_API_KEY"] = key,
                ["LLMAPP_TLS_DIR"] = tls,
            });
        await compose.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        try
        {
            await compose.RequireAsync(["up", "--detach"], TimeSpan.FromMinutes(5));
            await compose.WaitHealthyAsync(["gateway"], TimeSpan.FromMinutes(5));

            using var certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(tls, "cert.pem"));
            using var trusting = new HttpClient(new SocketsHttpHandler { SslOptions = TrustOnly(certificate) });
            var client = new ChatClient(ComposeStackFixture.ServedModel, new ApiKeyCredential(key),
                new OpenAIClientOptions { Endpoint = new Uri($"https://localhost:{port}/v1"), Transport = new HttpClientPipelineTransport(trusting) });

            ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Say hello")],
                new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 });
            output.WriteLine($"over HTTPS: {completion.Usage.OutputTokenCount} tokens");
            Assert.True(completion.Usage.OutputTokenCount > 0);

            // Plain HTTP on that port is not served, and a client that does not trust the certificate is not let in.
            using var plain = new HttpClient();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz")));
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"https://localhost:{port}/healthz")));
        }
        finally
        {
            await compose.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        }
    }

    /// <summary>A client's TLS options that trust <paramref name="root"/> alone, with the host name checked as usual.</summary>
    private static SslClientAuthenticationOptions TrustOnly(X509Certificate2 root) => new()
    {
        RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(root);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        },
    };
}
