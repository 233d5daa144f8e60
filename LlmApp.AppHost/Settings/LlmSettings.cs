using LlmApp.Models;
using Microsoft.Extensions.Configuration;

namespace LlmApp.AppHost.Settings;

/// <summary>
/// The <c>Llm</c> configuration section of the AppHost (appsettings.json, <c>Llm__*</c> environment
/// variables or <c>--Llm:*</c> arguments). The README's configuration table documents each one.
/// </summary>
public sealed class LlmSettings
{
    public const string SectionName = "Llm";

    /// <summary>
    /// The inference server: <c>llamacpp</c> (llama-server, the default) or <c>vllm</c> (vLLM on an NVIDIA GPU, set up by
    /// <see cref="Vllm"/>). The gateway in front is the same.
    /// </summary>
    public LlmBackend Backend { get; set; } = LlmBackend.LlamaCpp;

    /// <summary>vLLM's model and sizing, with <c>Llm:Backend=vllm</c>.</summary>
    public VllmSettings Vllm { get; set; } = new();

    /// <summary>A catalog name (see models/catalog.json) or a path to a .gguf file.</summary>
    public string Model { get; set; } = "llama-3.1-8b-instruct";

    /// <summary>The model id clients send; defaults to the catalog name or the file name without .gguf.</summary>
    public string? ServedModelName { get; set; }

    /// <summary>
    /// An embedding model, a catalog name (nomic-embed-text-v1.5) or a .gguf file, served by a second llama-server
    /// behind <c>/v1/embeddings</c>. Unset: no embedding server starts, and the endpoint answers 404.
    /// </summary>
    public string? EmbeddingModel { get; set; }

    /// <summary>The embedding model's id for clients; defaults to the catalog name or the file name without .gguf.</summary>
    public string? EmbeddingServedModelName { get; set; }

    /// <summary>How token vectors are pooled into one (llama-server's --pooling: mean, cls, last); defaults to the catalog's, or the model file's own.</summary>
    public string? EmbeddingPooling { get; set; }

    /// <summary>Whether the embedding model allows shortened vectors (<c>dimensions</c>); defaults to what the catalog says, false for a file.</summary>
    public bool? EmbeddingMatryoshka { get; set; }

    /// <summary>Tokens one embedding input may have: the embedding server's batch (an input is embedded in one batch).</summary>
    public int EmbeddingBatchSize { get; set; } = 2048;

    /// <summary>A llama-server binary to use instead of looking on PATH or building one.</summary>
    public string? ServerPath { get; set; }

    /// <summary>Where downloaded models and built llama-server binaries live; defaults to the user's cache directory.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Base URL models are downloaded from (a Hugging Face mirror, say).</summary>
    public Uri HuggingFaceEndpoint { get; set; } = new("https://huggingface.co");

    /// <summary>Port of the gateway's OpenAI API on localhost.</summary>
    public int GatewayPort { get; set; } = 8000;

    /// <summary>
    /// An API key <c>/v1</c> requires (<c>Authorization: Bearer &lt;key&gt;</c>), named <c>default</c>; kept as a secret
    /// parameter. Unset, with no <see cref="ApiKeysFile"/> either: the gateway is open to anyone who reaches its port.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// A JSON file of named keys (<c>{"keys":[{"name":"app1","key":"sk-...","enabled":true}]}</c>) the gateway takes,
    /// besides <see cref="ApiKey"/>; it reads the file again when it changes, so keys are added and revoked while it runs.
    /// </summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>
    /// Port of the gateway's <c>/metrics</c> on localhost, apart from the API's (0 picks a free one); in compose it is
    /// not published, so the metrics stay on the compose network.
    /// </summary>
    public int ManagementPort { get; set; } = 9464;

    /// <summary>
    /// The time to first token, in milliseconds, the gateway promises every chat request (its <c>Slo:TimeToFirstToken</c>):
    /// what it predicts would miss it is refused at once with 429. Unset: no objective.
    /// </summary>
    public int? TtftObjectiveMs { get; set; }

    /// <summary>Tokens a second each stream keeps (the gateway's <c>Slo:MinTokensPerSecond</c>). Unset: no floor.</summary>
    public double? MinTokensPerSecond { get; set; }

    /// <summary>The local Prometheus, when installed.</summary>
    public PrometheusSettings Prometheus { get; set; } = new();

    /// <summary>llama.cpp CPU and memory settings.</summary>
    public LlamaCppSettings LlamaCpp { get; set; } = new();

    /// <summary>
    /// Whether to refuse, before anything starts, models whose estimated memory exceeds this machine's; false turns the
    /// check off when the estimate is wrong for an unusual model.
    /// </summary>
    public bool MemoryCheck { get; set; } = true;

    /// <summary>The generated docker-compose.yml: its model and each service's limits.</summary>
    public ComposeSettings Compose { get; set; } = new();

    /// <summary>Binds and validates the <c>Llm</c> section; a value of the wrong type or range is a <see cref="SetupException"/>.</summary>
    public static LlmSettings From(IConfiguration configuration)
    {
        // The binder's own message would name the enum's .NET type; say the values instead.
        if (configuration[$"{SectionName}:{nameof(Backend)}"] is { Length: > 0 } backend && !Enum.TryParse<LlmBackend>(backend, ignoreCase: true, out _))
        {
            throw new SetupException($"Llm:Backend is '{backend}'; it must be llamacpp (llama-server) or vllm (vLLM on an NVIDIA GPU).");
        }

        LlmSettings settings;
        try
        {
            settings = configuration.GetSection(SectionName).Get<LlmSettings>() ?? new LlmSettings();
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key, e.g. "Failed to convert configuration value at 'Llm:GatewayPort' ...".
            throw new SetupException(ex.Message, ex);
        }

        settings.Validate();
        return settings;
    }

    /// <summary>Checks the values that cannot be right, naming the setting in the one-line error.</summary>
    public void Validate()
    {
        Require(GatewayPort is >= 0 and <= 65535, "Llm:GatewayPort", GatewayPort, "a port number (0 picks a free one)");
        Require(ManagementPort is >= 0 and <= 65535, "Llm:ManagementPort", ManagementPort, "a port number (0 picks a free one)");
        Require(Prometheus.Port is >= 0 and <= 65535, "Llm:Prometheus:Port", Prometheus.Port, "a port number (0 picks a free one)");
        Require(TtftObjectiveMs is null or (>= 1 and <= 3_600_000), "Llm:TtftObjectiveMs", TtftObjectiveMs, "milliseconds from 1 to 3600000, or unset for none");
        Require(MinTokensPerSecond is null or > 0, "Llm:MinTokensPerSecond", MinTokensPerSecond, "above 0, or unset for none");
        Require(LlamaCpp.Threads >= 0, "Llm:LlamaCpp:Threads", LlamaCpp.Threads, "0 (one per CPU) or more");
        Require(LlamaCpp.Parallel is >= 1 and <= 64, "Llm:LlamaCpp:Parallel", LlamaCpp.Parallel, "between 1 and 64");
        Require(LlamaCpp.Replicas is >= 1 and <= 16, "Llm:LlamaCpp:Replicas", LlamaCpp.Replicas, "between 1 and 16");
        Require(LlamaCpp.ContextPerSlot >= 256, "Llm:LlamaCpp:ContextPerSlot", LlamaCpp.ContextPerSlot, "at least 256 tokens");
        Require(LlamaCpp.PromptCacheMiB >= 0, "Llm:LlamaCpp:PromptCacheMiB", LlamaCpp.PromptCacheMiB, "0 (off) or more");
        Require(LlamaCpp.BatchSize >= 32, "Llm:LlamaCpp:BatchSize", LlamaCpp.BatchSize, "at least 32");
        Require(EmbeddingBatchSize >= 32, "Llm:EmbeddingBatchSize", EmbeddingBatchSize, "at least 32");
        Require(Compose.GatewayPort is > 0 and <= 65535, "Llm:Compose:GatewayPort", Compose.GatewayPort, "a port number");
        Require(Compose.GpuMemoryMiB >= 1024, "Llm:Compose:GpuMemoryMiB", Compose.GpuMemoryMiB, "at least 1024");
        Require(Compose.LlmMemoryMiB >= 256, "Llm:Compose:LlmMemoryMiB", Compose.LlmMemoryMiB, "at least 256");
        Require(Compose.EmbeddingsMemoryMiB >= 128, "Llm:Compose:EmbeddingsMemoryMiB", Compose.EmbeddingsMemoryMiB, "at least 128");
        Require(Compose.GatewayMemoryMiB >= 128, "Llm:Compose:GatewayMemoryMiB", Compose.GatewayMemoryMiB, "at least 128");
        Require(Compose.PrometheusMemoryMiB >= 64, "Llm:Compose:PrometheusMemoryMiB", Compose.PrometheusMemoryMiB, "at least 64");
        Require(Compose.ModelLoadSeconds >= 10, "Llm:Compose:ModelLoadSeconds", Compose.ModelLoadSeconds, "at least 10");
        RequireCpus(Compose.LlmCpus, "Llm:Compose:LlmCpus");
        RequireCpus(Compose.EmbeddingsCpus, "Llm:Compose:EmbeddingsCpus");
        RequireCpus(Compose.GatewayCpus, "Llm:Compose:GatewayCpus");
        RequireCpus(Compose.PrometheusCpus, "Llm:Compose:PrometheusCpus");
        if (Backend == LlmBackend.Vllm)
        {
            Vllm.Validate();
        }

        if (EmbeddingPooling is { } pooling && pooling is not ("mean" or "cls" or "last" or "rank"))
        {
            throw new SetupException($"Llm:EmbeddingPooling is '{pooling}'; it must be mean, cls, last or rank.");
        }
    }

    private static void RequireCpus(double cpus, string setting)
    {
        if (!(cpus is >= 0.1 and <= 256))
        {
            throw new SetupException($"{setting} is {cpus.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be a number of CPUs between 0.1 and 256.");
        }
    }

    private static void Require(bool condition, string setting, int value, string expected) =>
        Require(condition, setting, (double)value, expected);

    private static void Require(bool condition, string setting, double? value, string expected)
    {
        if (!condition)
        {
            throw new SetupException(
                $"{setting} is {value?.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be {expected}.");
        }
    }
}
