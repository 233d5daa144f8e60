using LlmApp.AppHost.Settings;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// Which deployment the publish step writes, and under which names, so that the files of each sit side by side: the
/// CPU box's <c>docker-compose.yml</c> and <c>.env</c>, the GPU box's with vLLM (<c>Llm:Backend=vllm</c>), and the GPU
/// box's with llama.cpp's CUDA build (<c>Llm:LlamaCpp:Cuda</c>). <see cref="Settings"/> are the settings the committed
/// file was generated with, written into its header.
/// </summary>
public sealed record ComposeTarget(string ComposeFile, string EnvironmentFile, string Settings, string Machine)
{
    public static readonly ComposeTarget Cpu = new("docker-compose.yml", ".env", "", "a CPU box (c7i-flex.large)");

    public static readonly ComposeTarget Vllm = new("docker-compose.gpu.yml", ".env.gpu", "--Llm:Backend=vllm", "an NVIDIA GPU box (g5.xlarge), vLLM");

    public static readonly ComposeTarget LlamaCppCuda = new("docker-compose.cuda.yml", ".env.cuda",
        "--Llm:LlamaCpp:Cuda=true --Llm:Compose:Model=llama-3.1-8b-instruct --Llm:LlamaCpp:Parallel=8 --Llm:Compose:LlmMemoryMiB=8192 --Llm:Compose:LlmCpus=3",
        "an NVIDIA GPU box (g5.xlarge), llama.cpp CUDA");

    public static IReadOnlyList<ComposeTarget> All { get; } = [Cpu, Vllm, LlamaCppCuda];

    public static ComposeTarget For(LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Backend == LlmBackend.Vllm ? Vllm : settings.LlamaCpp.Cuda ? LlamaCppCuda : Cpu;
    }

    /// <summary>The command that writes this target's files at the repository root.</summary>
    public string GenerateCommand =>
        "dotnet run --project LlmApp.AppHost -- --operation publish --step publish-compose --output-path ." + (Settings.Length > 0 ? " " + Settings : "");

    /// <summary>How the server starts it: the default files need no flags; the others name theirs.</summary>
    public string UpCommand => this == Cpu ? "docker compose up -d" : $"docker compose --env-file {EnvironmentFile} -f {ComposeFile} up -d";
}
