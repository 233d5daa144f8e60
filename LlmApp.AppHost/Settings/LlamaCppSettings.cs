namespace LlmApp.AppHost.Settings;

/// <summary>
/// How llama-server runs. The defaults target a small CPU box (2 vCPU, 4 GiB): every core for
/// generation, two slots so a second caller is not queued behind a long answer, and a context small
/// enough that the KV cache of an 8B model stays around 1 GiB.
/// </summary>
public sealed class LlamaCppSettings
{
    /// <summary>Threads for generation; 0 means one per logical CPU.</summary>
    public int Threads { get; set; }

    /// <summary>Concurrent sequences (llama-server slots); the gateway admits this many at once.</summary>
    public int Parallel { get; set; } = 2;

    /// <summary>Context length, in tokens, of each slot.</summary>
    public int ContextPerSlot { get; set; } = 4096;

    /// <summary>Tokens processed per batch of prompt evaluation (llama-server's --batch-size).</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>
    /// RAM for llama-server's cache of earlier prompts (its --cache-ram), which makes a repeated system prompt
    /// nearly free; llama-server's own default of 8 GiB is twice the memory of the target box.
    /// </summary>
    public int PromptCacheMiB { get; set; } = 512;

    /// <summary>
    /// llama-server processes serving the model side by side, behind the one gateway, which keeps each conversation
    /// on the replica that holds its prefix. The cores are split between them (each gets <see cref="Threads"/> / N).
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>This replica's share of the threads: <see cref="Threads"/> (or every core) split between <see cref="Replicas"/>.</summary>
    public LlamaCppSettings ForReplica()
    {
        var copy = (LlamaCppSettings)MemberwiseClone();
        copy.Threads = Math.Max(1, (Threads > 0 ? Threads : Environment.ProcessorCount) / Math.Max(1, Replicas));
        return copy;
    }

    /// <summary>
    /// The compose deployment's llama-server is the CUDA build, every layer on one NVIDIA GPU (a GPU option beside
    /// vLLM, for GGUF models): the publish step then writes docker-compose.cuda.yml. <c>dotnet run</c> is not changed
    /// by it (on macOS llama-server uses Metal; elsewhere give a CUDA build as <c>Llm:ServerPath</c>).
    /// </summary>
    public bool Cuda { get; set; }

    /// <summary>Extra arguments appended verbatim, for anything the settings above do not cover.</summary>
    public string[] ExtraArgs { get; set; } = [];
}
