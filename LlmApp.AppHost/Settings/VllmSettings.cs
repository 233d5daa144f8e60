using System.Globalization;
using LlmApp.Models;

namespace LlmApp.AppHost.Settings;

/// <summary>
/// The <c>Llm:Vllm</c> section: vLLM on one NVIDIA GPU (<c>Llm:Backend=vllm</c>). The defaults are sized for a g5.xlarge
/// (one A10G, 24 GB; 4 vCPU, 16 GiB): docs/gpu-migration.md shows the arithmetic behind each.
/// </summary>
public sealed class VllmSettings
{
    /// <summary>The vLLM server image.</summary>
    public string Image { get; set; } = "vllm/vllm-openai";

    /// <summary>Its tag, pinned: a new vLLM is a deliberate change, measured before it ships.</summary>
    public string ImageTag { get; set; } = "v0.11.0";

    /// <summary>
    /// The Hugging Face model vLLM downloads and serves. AWQ-INT4 by default: 5.7 GB of weights leave most of the
    /// A10G for the KV cache, and decode, bound by memory bandwidth, is about 2.5x BF16's (which sits at the SLO's
    /// 30 tok/s); <c>meta-llama/Llama-3.1-8B-Instruct</c> serves BF16 (gated: it needs HF_TOKEN).
    /// </summary>
    public string Model { get; set; } = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4";

    /// <summary>The model id clients send (vLLM's <c>--served-model-name</c>): the same as <c>dotnet run</c>'s default, so clients do not change.</summary>
    public string ServedModelName { get; set; } = "llama-3.1-8b-instruct";

    /// <summary>Tokens of context per request (<c>--max-model-len</c>); 8192 keeps several full contexts in the A10G's KV cache even in BF16.</summary>
    public int MaxModelLen { get; set; } = 8192;

    /// <summary>Share of the GPU's memory vLLM takes for weights, activations and the KV cache (<c>--gpu-memory-utilization</c>).</summary>
    public double GpuMemoryUtilization { get; set; } = 0.90;

    /// <summary>
    /// Requests vLLM runs at once (<c>--max-num-seqs</c>), and so the gateway's capacity for it: vLLM has no
    /// <c>/props</c> to learn it from. Past it the gateway queues, then answers 429. 16, because docs/gpu-migration.md
    /// estimates that an A10G keeps 42–46 tok/s a stream at 16 with the AWQ model, and only 29–33 at 32, at the edge of
    /// the SLO's 30 (estimates, until measured on the instance).
    /// </summary>
    public int MaxNumSeqs { get; set; } = 16;

    /// <summary>vLLM's parser for the model's tool calls (<c>--tool-call-parser</c>): Llama 3.1 answers them as JSON.</summary>
    public string ToolCallParser { get; set; } = "llama3_json";

    /// <summary>The chat template that tells the model about tools, a path inside the image; empty: the model's own.</summary>
    public string ChatTemplate { get; set; } = "/vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja";

    /// <summary>How long vLLM may take to download and load its model and capture CUDA graphs before failed health checks count.</summary>
    public int StartSeconds { get; set; } = 1200;

    /// <summary>Memory limit of the vLLM container (host RAM: it stages the weights on their way to the GPU).</summary>
    public int MemoryMiB { get; set; } = 12288;

    /// <summary>CPUs of the vLLM container (its scheduler and tokenizer run on them).</summary>
    public double Cpus { get; set; } = 3;

    /// <summary>Extra arguments appended verbatim to vLLM's command line.</summary>
    public string[] ExtraArgs { get; set; } = [];

    internal void Validate()
    {
        Require(Image.Length > 0 && ImageTag.Length > 0, "Llm:Vllm:Image and Llm:Vllm:ImageTag must both be set");
        Require(Model.Length > 0, "Llm:Vllm:Model must name a Hugging Face model (owner/name) or a path in the container");
        Require(ServedModelName.Length > 0, "Llm:Vllm:ServedModelName must not be empty");
        Require(MaxModelLen >= 256, $"Llm:Vllm:MaxModelLen is {MaxModelLen}; it must be at least 256 tokens");
        Require(GpuMemoryUtilization is > 0.1 and <= 1,
            $"Llm:Vllm:GpuMemoryUtilization is {GpuMemoryUtilization.ToString(CultureInfo.InvariantCulture)}; it must be a share of the GPU's memory, above 0.1 and at most 1");
        Require(MaxNumSeqs is >= 1 and <= 1024, $"Llm:Vllm:MaxNumSeqs is {MaxNumSeqs}; it must be between 1 and 1024");
        Require(StartSeconds >= 30, $"Llm:Vllm:StartSeconds is {StartSeconds}; it must be at least 30");
        Require(MemoryMiB >= 1024, $"Llm:Vllm:MemoryMiB is {MemoryMiB}; it must be at least 1024");
        Require(Cpus is >= 0.1 and <= 256, $"Llm:Vllm:Cpus is {Cpus.ToString(CultureInfo.InvariantCulture)}; it must be a number of CPUs between 0.1 and 256");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new SetupException(message + ".");
        }
    }
}
