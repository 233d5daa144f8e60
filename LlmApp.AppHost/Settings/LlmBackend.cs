namespace LlmApp.AppHost.Settings;

/// <summary>The inference server behind the gateway (<c>Llm:Backend</c>); the gateway is the same for both.</summary>
public enum LlmBackend
{
    /// <summary>llama.cpp's llama-server: a native binary under <c>dotnet run</c>, a container in compose (CPU, or CUDA with <c>Llm:LlamaCpp:Cuda</c>).</summary>
    LlamaCpp,

    /// <summary>vLLM on an NVIDIA GPU, as the <c>vllm/vllm-openai</c> container (<c>Llm:Vllm</c>).</summary>
    Vllm,
}
