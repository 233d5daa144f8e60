namespace LlmApp.AppHost.Settings;

/// <summary>
/// The <c>Llm:Compose</c> section: what the generated docker-compose.yml runs and the limits it gives each service.
/// The defaults fit the EC2 c7i-flex.large (2 vCPU, 4 GiB): llama-server gets 3 GiB, the gateway and Prometheus the
/// rest, leaving room for the kernel and Docker.
/// </summary>
public sealed class ComposeSettings
{
    /// <summary>
    /// The chat model compose serves: a catalog name (fetched into the models volume on first <c>up</c>) or a .gguf
    /// file on the server (mounted). Llama 3.1 8B does not fit in 4 GiB; the 1B of the same family does.
    /// </summary>
    public string Model { get; set; } = "llama-3.2-1b-instruct";

    /// <summary>The model id clients send; defaults to the catalog name or the file name without .gguf.</summary>
    public string? ServedModelName { get; set; }

    /// <summary>The gateway's port on the server (the only one published).</summary>
    public int GatewayPort { get; set; } = 8000;

    public int LlmMemoryMiB { get; set; } = 3072;

    /// <summary>The GPU's memory, for the CUDA build's check (<c>Llm:LlamaCpp:Cuda</c>): 23,028 MiB (22.5 GiB) usable of the A10G's 24 GB, as nvidia-smi reports it.</summary>
    public int GpuMemoryMiB { get; set; } = 23028;

    public double LlmCpus { get; set; } = 2;

    /// <summary>nomic-embed-text-v1.5 needs about 0.49 GiB with 2048-token inputs (the memory check); 640 MiB leaves it room.</summary>
    public int EmbeddingsMemoryMiB { get; set; } = 640;

    public double EmbeddingsCpus { get; set; } = 1;

    public int GatewayMemoryMiB { get; set; } = 384;

    public double GatewayCpus { get; set; } = 1;

    public int PrometheusMemoryMiB { get; set; } = 256;

    public double PrometheusCpus { get; set; } = 0.5;

    /// <summary>
    /// How long llama-server may take to load its model before failed health checks count: a cold EBS volume reads
    /// the 8B file at about 125 MB/s, some 40 s; the margin covers slower disks.
    /// </summary>
    public int ModelLoadSeconds { get; set; } = 180;
}
