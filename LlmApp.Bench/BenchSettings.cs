using LlmApp.Bench.Reporting;
using LlmApp.Bench.Workload;

namespace LlmApp.Bench;

/// <summary>What to measure, from the command line.</summary>
internal sealed record BenchSettings
{
    /// <summary>The endpoints: one (<c>--base-url</c>), or several compared in interleaved rounds (<c>--compare</c>).</summary>
    public required IReadOnlyList<Target> Targets { get; init; }

    public string? Model { get; init; }

    public required IReadOnlyList<int> Concurrency { get; init; }

    /// <summary>
    /// Open-loop runs instead, one at each rate (requests a second; infinity: all at once), whatever the answers do
    /// (<c>--request-rate</c>); null: closed-loop runs at each <see cref="Concurrency"/>.
    /// </summary>
    public IReadOnlyList<double>? RequestRates { get; init; }

    /// <summary>The open-loop arrivals' burstiness: the gamma distribution's shape (1: Poisson).</summary>
    public double Burstiness { get; init; } = 1;

    /// <summary>Seeds the open-loop arrivals, so that two runs send at the same times.</summary>
    public int Seed { get; init; }

    /// <summary>The runs to make, in order: each rate of an open loop, or each concurrency of a closed one.</summary>
    public IReadOnlyList<LoadLevel> Levels => RequestRates is { } rates
        ? [.. rates.Select(rate => new LoadLevel(0, rate))]
        : [.. Concurrency.Select(c => new LoadLevel(c))];

    /// <summary>Requests per run; by default 4 per concurrent client, at least 20.</summary>
    public int? NumPrompts { get; init; }

    public int PromptTokens { get; init; } = 458;

    public int OutputTokens { get; init; } = 256;

    public bool Stream { get; init; } = true;

    public int Rounds { get; init; } = 1;

    /// <summary>Requests per target before the measured runs, not counted (JIT, connection pools, caches).</summary>
    public int Warmup { get; init; } = 8;

    public double Temperature { get; init; }

    public bool IgnoreEos { get; init; }

    public required Slo Slo { get; init; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public string? JsonPath { get; init; }

    public string? PngPath { get; init; }

    /// <summary>An API key sent to every endpoint (<c>--api-key</c>), for a gateway with keys and per-key limits on.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Multi-turn conversations instead of single requests, to measure the prompt cache.</summary>
    public ConversationSettings? Conversations { get; init; }

    /// <summary>Requests per run: <c>--num-prompts</c>; by default 4 per concurrent client (at least 20), or 100 for an open loop.</summary>
    public int RequestsAt(LoadLevel load) => NumPrompts ?? (load.Rate is null ? Math.Max(20, 4 * load.Concurrency) : 100);
}

/// <summary><c>--conversations N --turns T --system-tokens S --turn-tokens U --think-ms M</c> (a random pause of up to M ms between turns).</summary>
internal sealed record ConversationSettings(int Conversations, int Turns, int SystemTokens, int TurnTokens, int ThinkMs = 0);
