using System.Globalization;
using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Settings;

namespace Aspire.Hosting;

public static class VllmBuilderExtensions
{
    /// <summary>The port vLLM's OpenAI server listens on in its container (its default).</summary>
    public const int Port = 8000;

    /// <summary>Where the Hugging Face cache lives in the container: downloaded weights survive a restart.</summary>
    public const string HuggingFaceCache = "/root/.cache/huggingface";

    /// <summary>
    /// Adds vLLM serving <see cref="VllmSettings.Model"/> on one NVIDIA GPU, under the model id clients already send,
    /// with tool calling by the model's own parser, a volume for the Hugging Face cache, a key of its own and a
    /// health check on <c>/health</c> that allows for the first download. The one-line alternative to
    /// <see cref="LlamaCppBuilderExtensions.AddLlamaCppReplicas"/>: the gateway in front does not change.
    /// </summary>
    public static IResourceBuilder<VllmResource> AddVllm(this IDistributedApplicationBuilder builder, [ResourceName] string name, VllmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var publishing = builder.ExecutionContext.IsPublishMode;
        // In compose the model ids are .env.gpu variables, so that the server's operator changes them without generating
        // again; required, so that a start without --env-file .env.gpu stops with the command instead of serving nothing.
        var model = publishing ? Required("LLMAPP_VLLM_MODEL") : settings.Model;
        var servedModel = publishing ? Required("LLMAPP_VLLM_SERVED_MODEL") : settings.ServedModelName;
        var vllm = builder.AddResource(new VllmResource(name, servedModel, settings.MaxModelLen, settings.MaxNumSeqs))
            .WithImage(settings.Image, settings.ImageTag)
            // In compose not published on the host: the gateway is the only way in. Under dotnet run, Aspire maps it to a
            // port on localhost, where the gateway (a process on the host) reaches it. vLLM's key guards /v1 only.
            .WithHttpEndpoint(targetPort: Port, name: VllmResource.HttpEndpointName)
            .WithArgs([.. Arguments(settings, model, servedModel)])
            .WithVolume("huggingface-cache", HuggingFaceCache)
            .WithHttpHealthCheck("/health", endpointName: VllmResource.HttpEndpointName);

        return publishing ? vllm.PublishAsVllmService(settings, name) : vllm.RunOnGpu(builder);
    }

    private static string Required(string variable) =>
        $"${{{variable}:?is not set; start with: {ComposeTarget.Vllm.UpCommand}}}";

    /// <summary>vLLM's command line, each flag with the reason for its value.</summary>
    internal static IEnumerable<string> Arguments(VllmSettings settings, string model, string servedModel)
    {
        ArgumentNullException.ThrowIfNull(settings);
        yield return "--model";
        yield return model;
        // Clients keep the model id they use today; vLLM would otherwise answer to the Hugging Face name only.
        yield return "--served-model-name";
        yield return servedModel;
        yield return "--host";
        yield return "0.0.0.0";
        yield return "--port";
        yield return Port.ToString(CultureInfo.InvariantCulture);
        // The context each request gets, which also sizes the KV cache's blocks per sequence.
        yield return "--max-model-len";
        yield return settings.MaxModelLen.ToString(CultureInfo.InvariantCulture);
        yield return "--gpu-memory-utilization";
        yield return settings.GpuMemoryUtilization.ToString("0.0###", CultureInfo.InvariantCulture);
        // The gateway admits exactly this many (Backend capacity), and queues or refuses the rest.
        yield return "--max-num-seqs";
        yield return settings.MaxNumSeqs.ToString(CultureInfo.InvariantCulture);
        // Tool calls are the model's (the gateway passes tools through to an openai backend): vLLM parses them.
        yield return "--enable-auto-tool-choice";
        yield return "--tool-call-parser";
        yield return settings.ToolCallParser;
        if (settings.ChatTemplate is { Length: > 0 } template)
        {
            yield return "--chat-template";
            yield return template;
        }

        foreach (var extra in settings.ExtraArgs)
        {
            yield return extra;
        }
    }

    /// <summary>
    /// <c>dotnet run</c> with <c>Llm:Backend=vllm</c>: the container gets the machine's GPUs, a key generated at each
    /// start (vLLM reads <c>VLLM_API_KEY</c>), and the user's Hugging Face token, when configured, as a secret parameter.
    /// </summary>
    private static IResourceBuilder<VllmResource> RunOnGpu(this IResourceBuilder<VllmResource> vllm, IDistributedApplicationBuilder builder)
    {
        vllm.WithContainerRuntimeArgs("--gpus", "all", "--ipc", "host").WithGeneratedKey("VLLM_API_KEY");
        if (builder.Configuration["HF_TOKEN"] is { Length: > 0 })
        {
            vllm.WithEnvironment("HF_TOKEN", builder.AddParameterFromConfiguration("hf-token", "HF_TOKEN", secret: true));
        }

        return vllm;
    }

    /// <summary>
    /// The compose service (docker-compose.gpu.yml): one GPU reserved, the host's IPC namespace, the key from the
    /// backend-key volume (a one-shot makes it on the server), the Hugging Face token from the shell only, and a
    /// health check with a start period long enough for the first download.
    /// </summary>
    private static IResourceBuilder<VllmResource> PublishAsVllmService(this IResourceBuilder<VllmResource> vllm, VllmSettings settings, string name)
    {
        var keyMaker = vllm.ApplicationBuilder.AddBackendKeyMaker($"{name}-key");
        return vllm
            .WithVolume(LlamaCppContainerBuilderExtensions.BackendKeyVolume, LlamaCppContainerBuilderExtensions.BackendKeyDirectory, isReadOnly: true)
            .WithEnvironment("HF_TOKEN", "${HF_TOKEN:-}")
            .WaitForCompletion(keyMaker)
            .WithComposeLimits(settings.MemoryMiB, settings.Cpus)
            // vLLM's own image runs as root and writes caches under it (not run by this project's tests, which have no GPU):
            // every capability dropped still, and the key readable through its group. It downloads its own model.
            .WithComposeHardening([ComposeNetworks.Backend, ComposeNetworks.Downloads], readOnly: false, pidsLimit: 4096)
            .WithBackendKeyGroup()
            .PublishAsComposeService(service =>
            {
                // vLLM takes its key only from the command line or VLLM_API_KEY: read it from the volume, then start the
                // server with the command below ($$ is a literal $ to compose). A missing key stops it: it must never
                // start open.
                service.Entrypoint.AddRange(["/bin/sh", "-c",
                    $"key={LlamaCppContainerBuilderExtensions.BackendKeyFile}; " +
                    "k=$$({ tr -d '[:space:]' < \"$$key\"; } 2>/dev/null); " +
                    "[ -n \"$$k\" ] || { echo \"vllm: error: the backend key $$key is missing or empty; the llm-key service makes it (docker compose up runs it first).\" >&2; exit 1; }; " +
                    "VLLM_API_KEY=\"$$k\" exec python3 -m vllm.entrypoints.openai.api_server \"$$@\"",
                    "vllm"]);
                service.Ipc = "host";
                service.Deploy = ComposeDeploy.OneNvidiaGpu();
                // The image has Python, not necessarily curl.
                service.HealthCheck = new ComposeHealthCheck
                {
                    Test = ["CMD", "python3", "-c", $"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{Port}/health', timeout=4)"],
                    StartPeriod = $"{settings.StartSeconds}s",
                };
            })
            .WithComposeVariable("LLMAPP_VLLM_MODEL", settings.Model,
                "The Hugging Face model vLLM serves, downloaded into the huggingface-cache volume on first up (gated models need HF_TOKEN in the shell).")
            .WithComposeVariable("LLMAPP_VLLM_SERVED_MODEL", settings.ServedModelName, "The chat model id clients send (vLLM's --served-model-name).");
    }
}
