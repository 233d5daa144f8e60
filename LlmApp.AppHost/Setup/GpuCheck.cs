using LlmApp.Models;
namespace LlmApp.AppHost.Setup;

/// <summary>
/// Before <c>dotnet run</c> starts vLLM: a machine with no NVIDIA GPU stops in one line, instead of a container that
/// Docker cannot start and a gateway waiting for it. A remote Docker engine (<c>DOCKER_HOST</c>) is trusted to have one.
/// </summary>
public static class GpuCheck
{
    public static void EnsureNvidiaGpu(Func<string, bool> exists, string? dockerHost)
    {
        ArgumentNullException.ThrowIfNull(exists);
        // /dev/nvidiactl on Linux; /dev/dxg under WSL2, where the GPU reaches containers through the Windows driver.
        if (dockerHost is { Length: > 0 } || exists("/dev/nvidiactl") || exists("/dev/dxg"))
        {
            return;
        }

        throw new SetupException(
            "Llm:Backend=vllm runs vLLM in a container on an NVIDIA GPU, and this machine has none (no /dev/nvidiactl); " +
            "use Llm:Backend=llamacpp here, or docker-compose.gpu.yml on a GPU server (see docs/gpu-migration.md).");
    }
}
