using System.CommandLine;
using System.Globalization;
using System.Net;
using LlmApp.Bench;
using LlmApp.Bench.Measurement;
using LlmApp.Bench.Relay;
using LlmApp.Bench.Reporting;
using LlmApp.Bench.Workload;
using Spectre.Console;

var baseUrl = new Option<string?>("--base-url") { Description = "OpenAI base URL of the endpoint to measure, e.g. http://localhost:8000/v1." };
var compare = new Option<string?>("--compare") { Description = "Endpoints to compare in interleaved rounds: name=url,name=url,... (the first is the baseline)." };
var pids = new Option<string[]>("--pid")
{
    Description = "Processes whose CPU time each endpoint costs: name=PID[,PID] (repeat for each endpoint), or PID[,PID] for a single --base-url.",
    AllowMultipleArgumentsPerToken = false,
};
var apis = new Option<string[]>("--api")
{
    Description = "The API each endpoint is asked through, chat (default), responses or messages: name=api (repeat for each endpoint), or api for a single --base-url.",
    AllowMultipleArgumentsPerToken = false,
};
var model = new Option<string?>("--model") { Description = "Model id to ask for; default: the first of GET /v1/models." };
var concurrency = new Option<string>("--concurrency") { Description = "Concurrent clients, one run each: 1,4,16.", DefaultValueFactory = _ => "1" };
var numPrompts = new Option<int?>("--num-prompts", "--requests") { Description = "Requests per run (default: 4 per client, at least 20)." };
var promptTokens = new Option<int>("--prompt-tokens") { Description = "Tokens in each prompt (sized with the server's /tokenize when it has one).", DefaultValueFactory = _ => 458 };
var outputTokens = new Option<int>("--output-tokens") { Description = "max_tokens of each request.", DefaultValueFactory = _ => 256 };
var noStream = new Option<bool>("--no-stream") { Description = "Ask for whole answers instead of SSE streams." };
var rounds = new Option<int>("--rounds") { Description = "Measured rounds (the median is reported); default 5 with --compare, else 1." };
var warmup = new Option<int>("--warmup") { Description = "Requests per endpoint before measuring, not counted.", DefaultValueFactory = _ => 8 };
var temperature = new Option<double>("--temperature") { DefaultValueFactory = _ => 0 };
var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Send ignore_eos (llama-server, vLLM) so that every answer is max_tokens long." };
var goodput = new Option<string[]>("--goodput")
{
    Description = "Goodput's objectives, as vLLM bench serve takes them: ttft:MS tpot:MS e2el:MS (default ttft:300 tpot:33.3, the seed's 300 ms and 30 tok/s).",
    AllowMultipleArgumentsPerToken = true,
};
var requestRate = new Option<string?>("--request-rate")
{
    Description = "Open loop instead of --concurrency: requests a second, one run each (2,4,inf), sent at their times whatever the answers do.",
};
var burstiness = new Option<double>("--burstiness") { Description = "Open loop: gamma shape of the arrivals (1: Poisson; lower: burstier).", DefaultValueFactory = _ => 1 };
var seed = new Option<int>("--seed") { Description = "Open loop: seeds the arrival times.", DefaultValueFactory = _ => 0 };
var json = new Option<string?>("--json") { Description = "Write the results as JSON (vLLM bench serve field names) to this file." };
var png = new Option<string?>("--png") { Description = "Write a chart of the results to this PNG file." };
var conversations = new Option<int>("--conversations") { Description = "Run this many multi-turn conversations side by side instead (prompt-cache workload)." };
var apiKey = new Option<string?>("--api-key") { Description = "Sent to every endpoint as Authorization: Bearer (servers without keys ignore it)." };
var turns = new Option<int>("--turns") { DefaultValueFactory = _ => 6 };
var systemTokens = new Option<int>("--system-tokens") { DefaultValueFactory = _ => 400 };
var turnTokens = new Option<int>("--turn-tokens") { DefaultValueFactory = _ => 40 };
var thinkMs = new Option<int>("--think-ms") { Description = "With --conversations: a random pause of up to this many ms between a conversation's turns." };

var root = new RootCommand("Measures OpenAI-compatible chat endpoints: TTFT, TPOT, ITL, latency, throughput, goodput, and CPU per token.")
{
    baseUrl, compare, pids, apis, model, concurrency, numPrompts, promptTokens, outputTokens, noStream, rounds, warmup, temperature, ignoreEos,
    goodput, requestRate, burstiness, seed, json, png, conversations, turns, systemTokens, turnTokens, thinkMs, apiKey,
};
root.SetAction(async (parse, cancellationToken) =>
{
    try
    {
        var targets = Targets(parse.GetValue(baseUrl), parse.GetValue(compare), parse.GetValue(pids) ?? [], parse.GetValue(apis) ?? []);
        var settings = new BenchSettings
        {
            Targets = targets,
            Model = parse.GetValue(model),
            Concurrency = Numbers(parse.GetValue(concurrency)!, "--concurrency"),
            NumPrompts = parse.GetValue(numPrompts),
            PromptTokens = parse.GetValue(promptTokens),
            OutputTokens = parse.GetValue(outputTokens),
            Stream = !parse.GetValue(noStream),
            Rounds = parse.GetValue(rounds) is > 0 and var r ? r : targets.Count > 1 ? 5 : 1,
            Warmup = parse.GetValue(warmup),
            Temperature = parse.GetValue(temperature),
            IgnoreEos = parse.GetValue(ignoreEos),
            Slo = parse.GetValue(goodput) is { Length: > 0 } objectives ? Slo.Parse(objectives) : new Slo(300, 1000 / 30.0),
            RequestRates = parse.GetValue(requestRate) is { } rates ? Rates(rates) : null,
            Burstiness = parse.GetValue(burstiness) is > 0 and var b ? b : throw new FormatException("--burstiness is a number above 0."),
            Seed = parse.GetValue(seed),
            JsonPath = OutputFile(parse.GetValue(json), "--json"),
            PngPath = OutputFile(parse.GetValue(png), "--png"),
            ApiKey = parse.GetValue(apiKey),
            Conversations = parse.GetValue(conversations) is > 0 and var n
                ? new ConversationSettings(n, parse.GetValue(turns), parse.GetValue(systemTokens), parse.GetValue(turnTokens), parse.GetValue(thinkMs))
                : null,
        };
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // A log or a file: keep each table row on one line, so that it stays a Markdown table.
            console.Profile.Width = 400;
        }

        return await new BenchRunner(settings, console).RunAsync(cancellationToken);
    }
    catch (Exception ex) when (ex is FormatException or BenchSetupException)
    {
        Console.Error.WriteLine($"bench: error: {ex.Message}");
        return 2;
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
    {
        // Writing --json or --png failed after the run (the tables above are its results).
        Console.Error.WriteLine($"bench: error: {ex.Message}");
        return 1;
    }
    catch (MeasurementException ex)
    {
        Console.Error.WriteLine($"bench: error: {ex.Message}");
        return 1;
    }
});

var listen = new Option<string>("--listen") { Description = "Where the relay listens: host:port.", Required = true };
var upstream = new Option<string>("--upstream") { Description = "Where it relays to: host:port (llama-server).", Required = true };
var relay = new Command("relay", "A bare TCP relay (an awaited read and write per chunk): the floor of a .NET gateway's cost per token.") { listen, upstream };
relay.SetAction(async (parse, cancellationToken) =>
{
    // The floor is measured with the gateway's runtime settings (build/PerTokenRuntime.props, and this).
    LlmApp.Runtime.InlineIo.Enable();
    var (listenHost, listenPort) = HostPort(parse.GetValue(listen)!, "--listen");
    var (upHost, upPort) = HostPort(parse.GetValue(upstream)!, "--upstream");
    await TcpRelay.RunAsync(new IPEndPoint(IPAddress.Parse(listenHost), listenPort), new DnsEndPoint(upHost, upPort), Console.Out, cancellationToken);
    return 0;
});
root.Subcommands.Add(relay);

var passthroughListen = new Option<string>("--listen") { Description = "Where it listens: http://host:port.", Required = true };
var passthroughUpstream = new Option<string>("--upstream") { Description = "The OpenAI server it forwards to: http://host:port.", Required = true };
var passthrough = new Command("passthrough",
    "A Kestrel + HttpClient proxy that copies each chunk back as it comes: the floor of a gateway built on them.") { passthroughListen, passthroughUpstream };
passthrough.SetAction(async (parse, cancellationToken) =>
{
    await HttpPassthrough.RunAsync(parse.GetValue(passthroughListen)!, Url(parse.GetValue(passthroughUpstream)!, "--upstream"), cancellationToken);
    return 0;
});
root.Subcommands.Add(passthrough);

return await root.Parse(args).InvokeAsync();

static List<Target> Targets(string? baseUrl, string? compare, string[] pids, string[] apis)
{
    var named = pids.Where(p => p.Contains('=', StringComparison.Ordinal))
        .Select(p => p.Split('=', 2))
        .ToDictionary(p => p[0], p => Numbers(p[1], "--pid"), StringComparer.Ordinal);
    var namedApis = apis.Where(a => a.Contains('=', StringComparison.Ordinal))
        .Select(a => a.Split('=', 2))
        .ToDictionary(a => a[0], a => ApiDialect.Parse(a[1], "--api"), StringComparer.Ordinal);
    if (compare is { Length: > 0 })
    {
        var targets = compare.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(entry =>
        {
            var parts = entry.Split('=', 2);
            return parts.Length == 2
                ? new Target(parts[0], Url(parts[1], "--compare"), named.TryGetValue(parts[0], out var p) ? new ProcessCpu(p) : null,
                    namedApis.GetValueOrDefault(parts[0], BenchApi.Chat))
                : throw new FormatException($"--compare takes name=url,...; '{entry}' has no name.");
        }).ToList();
        var unknown = named.Keys.Concat(namedApis.Keys).Except(targets.Select(t => t.Name)).ToList();
        return unknown.Count == 0 ? targets : throw new FormatException($"--pid or --api names {string.Join(", ", unknown)}, which --compare does not.");
    }

    if (baseUrl is null)
    {
        throw new FormatException("give --base-url, or --compare name=url,...");
    }

    var url = Url(baseUrl, "--base-url");
    var unnamed = pids.Where(p => !p.Contains('=', StringComparison.Ordinal)).SelectMany(p => Numbers(p, "--pid")).Concat(named.Values.SelectMany(v => v)).ToList();
    var api = apis.Where(a => !a.Contains('=', StringComparison.Ordinal)).Select(a => ApiDialect.Parse(a, "--api")).Concat(namedApis.Values).LastOrDefault();
    return [new Target(url.Authority, url, unnamed.Count > 0 ? new ProcessCpu(unnamed) : null, api)];
}

static Uri Url(string text, string option) =>
    Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
        ? url
        : throw new FormatException($"{option}: '{text}' is not an absolute http(s) URL.");

// Checked before the run, so that a long run is not lost to a typo in where its results go.
static string? OutputFile(string? path, string option)
{
    if (path is null)
    {
        return null;
    }

    var full = Path.GetFullPath(path);
    return Directory.Exists(full)
        ? throw new FormatException($"{option}: '{path}' is a directory; give a file name.")
        : Directory.Exists(Path.GetDirectoryName(full))
            ? path
            : throw new FormatException($"{option}: the directory of '{path}' does not exist.");
}

static List<int> Numbers(string text, string option) =>
    [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n =>
        int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new FormatException($"{option}: '{n}' is not a positive whole number."))];

static (string Host, int Port) HostPort(string text, string option)
{
    var colon = text.LastIndexOf(':');
    return colon > 0 && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
        ? (text[..colon], port)
        : throw new FormatException($"{option}: '{text}' is not host:port.");
}

static List<double> Rates(string value) =>
[
    .. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
        part.Equals("inf", StringComparison.OrdinalIgnoreCase) ? double.PositiveInfinity
        : double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0 && double.IsFinite(rate) ? rate
        : throw new FormatException($"--request-rate takes requests a second above 0, or inf: 2,4,inf; '{part}' is not one.")),
];
