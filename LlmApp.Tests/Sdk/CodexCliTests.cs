using System.Globalization;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.Sdk;

/// <summary>
/// A real agent client end to end: the Codex CLI (npm <c>@openai/codex</c>) in <c>exec</c> mode, with the gateway as a
/// custom provider speaking the Responses API, runs one non-interactive turn against the tiny model. Codex sends what it
/// sends to OpenAI: a streamed request with its function tools, a hosted <c>web_search</c> tool and a tool namespace,
/// <c>reasoning</c>, <c>include</c>, <c>store: false</c>, and a prompt of about 6,700 tokens, so llama-server gets a
/// 32k context (the tiny model's file says 4k, which llama-server would cap at). Codex sets no output limit and takes an
/// answer cut short as a failed turn, as it should; a trained model ends its turn, the random one seldom does, so its
/// end-of-sequence token (id 2) is made likely (<c>--logit-bias 2+8</c>). Its tool calls, when it makes them, are
/// nonsense that Codex answers with the error as the tool's result, and asks again.
/// </summary>
public sealed class CodexCliTests(ITestOutputHelper output)
{
    private const string Key = "codex-test-key-0123456789abcdef";
    private static readonly string s_directory = Path.Combine(TestPaths.RepositoryRoot, "LlmApp.Tests", "Codex");

    [Fact]
    public async Task TheCodexCliRunsATurnAgainstTheGatewayWithoutAProtocolError()
    {
        if (!File.Exists(Path.Combine(s_directory, "node_modules", ".bin", "codex")))
        {
            var install = await CommandRunner.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], s_directory, timeout: TimeSpan.FromMinutes(10));
            Assert.True(install.ExitCode == 0, $"npm ci failed:\n{install.StandardOutput}\n{install.StandardError}");
        }

        await using var llama = await LlamaServerProcess.StartAsync(
            ["--parallel", "1", "--threads", "1", "--ctx-size", "32768", "--no-jinja", "--override-kv", "llama.context_length=int:32768",
             "--logit-bias", "2+8"],
            CancellationToken.None);
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>
        {
            ["Backend__Endpoint"] = llama.Address.ToString(),
            ["Backend__Model"] = "tiny",
            ["Backend__ApiKey"] = llama.Key,
            ["Auth__Keys__0__Name"] = "codex",
            ["Auth__Keys__0__Key"] = Key,
        });
        // A turn whose round trips of the random model's nonsense tool calls fill the 32k context (seen: 31,319 tokens of prompt,
        // then 1,449 of answer, cut) ends as an incomplete response, or Codex finds no room left, and Codex rightly takes either
        // as a failed turn; a turn of such calls can also outlast the time given it (seen once: over five minutes). Those runs
        // prove nothing about the protocol, and are run again. Any other error fails at once.
        for (var attempt = 1; ; attempt++)
        {
            var home = Directory.CreateTempSubdirectory("llmapp-codex-");
            try
            {
                var provider = string.Create(CultureInfo.InvariantCulture,
                    $"model_providers.llmapp={{name=\"llmapp\",base_url=\"{new Uri(gateway.Address, "v1")}\",wire_api=\"responses\",env_key=\"LLMAPP_KEY\",request_max_retries=0,stream_max_retries=0}}");
                var run = await CommandRunner.RunAsync(
                    Path.Combine(s_directory, "node_modules", ".bin", "codex"),
                    ["exec", "--skip-git-repo-check", "-c", "model_provider=llmapp", "-c", provider, "-c", "model=tiny", "Say hi"],
                    home.FullName,
                    new Dictionary<string, string> { ["CODEX_HOME"] = home.FullName, ["LLMAPP_KEY"] = Key },
                    timeout: TimeSpan.FromMinutes(3),
                    standardInput: "");

                output.WriteLine($"attempt {attempt}:");
                output.WriteLine(run.StandardOutput);
                output.WriteLine(run.StandardError);
                // Codex prints what ends a turn as "ERROR: ..." (a refused request, a broken stream). A log line of its tool router
                // ("... ERROR codex_core::tools::router: ...") is the random model's arguments, which Codex answers as a tool result.
                var errors = (run.StandardError + run.StandardOutput).Split('\n').Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal)).ToList();
                if (run.ExitCode != 0 && attempt < 3 && (run.ExitCode == -1 || errors.Count > 0 && errors.All(ModelsDoing)))
                {
                    continue;
                }

                if (run.ExitCode != 0)
                {
                    WriteToolItems(home);
                }

                Assert.Equal(0, run.ExitCode);
                Assert.Empty(errors);
                Assert.Contains("tokens used", run.StandardError + run.StandardOutput, StringComparison.Ordinal);
                break;
            }
            finally
            {
                home.Delete(recursive: true);
            }
        }

        // The request's log line: written once its response is complete, in a batch within 100 ms.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        bool Served() => gateway.Output.Any(l => l.Contains("response ", StringComparison.Ordinal) && l.Contains("status=200", StringComparison.Ordinal) &&
                                                 l.Contains("key=codex", StringComparison.Ordinal));
        while (!Served() && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        Assert.True(Served(), "no request of Codex's was served:\n" + string.Join("\n", gateway.Output.TakeLast(20)));
    }

    private static bool ModelsDoing(string error) =>
        error.StartsWith("ERROR: Incomplete response returned, reason: max_output_tokens", StringComparison.Ordinal) ||
        error.StartsWith("ERROR: Codex ran out of room in the model's context window", StringComparison.Ordinal);

    /// <summary>The tool calls and outputs of Codex's session log, for a failed run: what it sent the gateway back.</summary>
    private void WriteToolItems(DirectoryInfo home)
    {
        var sessions = Path.Combine(home.FullName, "sessions");
        if (!Directory.Exists(sessions))
        {
            return;
        }

        foreach (var line in Directory.EnumerateFiles(sessions, "*.jsonl", SearchOption.AllDirectories).SelectMany(File.ReadLines)
                     .Where(l => l.Contains("\"function_call", StringComparison.Ordinal)))
        {
            output.WriteLine(line.Length > 400 ? line[..400] + "..." : line);
        }
    }
}
