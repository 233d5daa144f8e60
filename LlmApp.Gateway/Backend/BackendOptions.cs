using System.ComponentModel.DataAnnotations;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Where the OpenAI-compatible inference servers (llama-server, vLLM) live and what they serve. Bound from the
/// <c>Backend</c> section. One backend: <c>Backend:Endpoint</c> (and <c>Name</c>, <c>Kind</c>, <c>ApiKey</c>), as the
/// AppHost sets it for one llama-server. Several replicas of the model: <c>Backend:Backends:0:Name</c>,
/// <c>:Endpoint</c>, <c>:Kind</c>, <c>:Capacity</c>, <c>:ApiKey</c>, ..., which take the place of the single one; the
/// model and its context are shared. The checks are <see cref="BackendOptionsValidator"/>'s.
/// </summary>
public sealed class BackendOptions
{
    public const string SectionName = "Backend";

    /// <summary>The backend's name in logs and metrics; the AppHost gives its resource name.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Name { get; set; } = "llm";

    /// <summary>Root URL of the backend, without <c>/v1</c>, e.g. <c>http://127.0.0.1:8080</c>; unset when <see cref="Backends"/> lists them.</summary>
    [AbsoluteHttpUri]
    public Uri? Endpoint { get; set; }

    /// <summary>Replicas of the model, each with its own slots, health, circuit breaker and metrics label; empty: the one <see cref="Endpoint"/>.</summary>
    public List<BackendEndpointOptions> Backends { get; set; } = [];

    /// <summary>How a request picks among several backends (ignored with one).</summary>
    public BackendRouting Routing { get; set; } = BackendRouting.Affine;

    /// <summary>
    /// With affine routing, how long a request waits for a slot on the replica that holds its conversation before it
    /// goes to another (which then reads the whole conversation again). 0: never waits for it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan AffinityWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether one API key's requests may be answered from prompts another key left in the backend's cache (see
    /// <see cref="PromptCacheIsolation"/>). <c>None</c> by default: every caller shares the cache, as llama-server does.
    /// </summary>
    public PromptCacheIsolation PromptCacheIsolation { get; set; }

    /// <summary>The model id clients send and see in <c>/v1/models</c>; the backend serves it under this alias.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Model { get; set; } = "";

    /// <summary>What kind of server it is; it decides how capacity is learned and who calls tools.</summary>
    public BackendKind Kind { get; set; } = BackendKind.LlamaCpp;

    /// <summary>
    /// Requests the one backend runs at once, for a server that cannot say (vLLM: its <c>--max-num-seqs</c>); unset:
    /// learned from llama-server's <c>/props</c>, or <c>Resilience:MaxConcurrentRequests</c>. With <see cref="Backends"/>,
    /// each has its own.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int? Capacity { get; set; }

    /// <summary>API key the backend expects, if any (vLLM's <c>--api-key</c>, llama-server's <c>--api-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Tokens of context a request gets (llama-server's context per slot); bounds max_tokens. Unset: not checked.</summary>
    [Range(1, int.MaxValue)]
    public int? ContextLength { get; set; }

    /// <summary>
    /// Whether the backend does tool calling itself (vLLM with a tool parser, llama-server with --jinja). When false,
    /// the gateway constrains generation to a tool call with a JSON schema, which works on any model. Unset: true
    /// for an <see cref="BackendKind.OpenAI"/> backend, false for llama-server.
    /// </summary>
    public bool? NativeToolCalls { get; set; }

    public bool CallsToolsItself => NativeToolCalls ?? Kind == BackendKind.OpenAI;

    /// <summary>
    /// Each backend's settings: those of <see cref="Backends"/> with the shared ones filled in, or this one alone, with
    /// its <see cref="Capacity"/>.
    /// </summary>
    public IEnumerable<(BackendOptions Options, int? Capacity)> Resolve() => Backends.Count == 0
        ? [(this, Capacity)]
        : Backends.Select(b => (new BackendOptions
        {
            Name = b.Name,
            Endpoint = b.Endpoint,
            Model = Model,
            Kind = b.Kind ?? Kind,
            ApiKey = b.ApiKey ?? ApiKey,
            ContextLength = ContextLength,
            NativeToolCalls = NativeToolCalls,
        }, b.Capacity));
}

/// <summary>One of several backends, in <c>Backend:Backends</c>.</summary>
public sealed class BackendEndpointOptions
{
    public string Name { get; set; } = "";

    public Uri? Endpoint { get; set; }

    /// <summary>Its kind, when it is not <c>Backend:Kind</c>.</summary>
    public BackendKind? Kind { get; set; }

    /// <summary>Requests it runs at once; unset: learned from llama-server's <c>/props</c>, or <c>Resilience:MaxConcurrentRequests</c>.</summary>
    public int? Capacity { get; set; }

    /// <summary>Its key, when it is not <c>Backend:ApiKey</c>.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>How a request picks among several backends.</summary>
public enum BackendRouting
{
    /// <summary>
    /// By the conversation (its system prompt and first user message), kept on one replica, so that each turn finds
    /// its earlier turns in that replica's prompt cache: new conversations spread evenly, follow-ups the gateway does
    /// not know by rendezvous hashing; a request waits up to <see cref="BackendOptions.AffinityWait"/> for its busy
    /// replica, and moves (for good) when that passes or the replica is down.
    /// </summary>
    Affine,

    /// <summary>Each request to the next replica with a free slot in turn.</summary>
    RoundRobin,

    /// <summary>Each request to the replica with the most free slots.</summary>
    LeastLoaded,
}

/// <summary>How far the backend's prompt cache is shared between API keys.</summary>
public enum PromptCacheIsolation
{
    /// <summary>
    /// Shared: a prompt any key sent may answer another's from the cache, so that a key can learn, from
    /// <c>cached_tokens</c> or from how soon its first token came, whether some other key sent a text it guesses.
    /// </summary>
    None,

    /// <summary>
    /// Per key. vLLM (the <c>openai</c> kind) is given a <c>cache_salt</c> of the key's, so that it keeps each key's
    /// prompts apart. llama-server has nothing of the kind, so it is asked to use its cache (<c>cache_prompt</c>) only
    /// for a key's own follow-up: a request whose earlier turns this key sent itself; any other prompt is read whole.
    /// </summary>
    PerKey,
}

/// <summary>The kinds of OpenAI-compatible server the gateway knows how to sit in front of.</summary>
public enum BackendKind
{
    /// <summary>llama.cpp's llama-server: its slots (from <c>/props</c>) are its capacity; tool calls are emulated.</summary>
    LlamaCpp,

    /// <summary>Any other OpenAI-compatible server (vLLM): capacity comes from settings, and it calls tools itself.</summary>
    OpenAI,
}
