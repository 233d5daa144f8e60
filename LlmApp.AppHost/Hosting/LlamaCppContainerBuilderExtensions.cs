using LlmApp.AppHost.Compose;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Settings;

namespace Aspire.Hosting;

public static class LlamaCppContainerBuilderExtensions
{
    /// <summary>The image built from containers/llama-cpp, tagged with the llama.cpp version it holds.</summary>
    public const string Image = "llmapp-llama-cpp";

    /// <summary>The CUDA build's image, from containers/llama-cpp/Dockerfile.cuda (<c>Llm:LlamaCpp:Cuda</c>).</summary>
    public const string CudaImage = "llmapp-llama-cpp-cuda";

    /// <summary>The image of the one-shot model fetcher, built from containers/model (LlmApp.ModelTool).</summary>
    public const string ModelImage = "llmapp-model";

    /// <summary>The port llama-server listens on in its container.</summary>
    public const int Port = 8080;

    private const string ModelsVolume = "models";

    /// <summary>
    /// Where the deployment's llama-server key is kept: a volume of its own, written once by the first model fetcher
    /// and mounted read-only into llama-server, the gateway and Prometheus, which are the only ones that know it.
    /// </summary>
    public const string BackendKeyVolume = "backend-key";

    public const string BackendKeyDirectory = "/etc/llmapp/backend-key";

    public const string BackendKeyFile = BackendKeyDirectory + "/key";

    /// <summary>
    /// Adds llama-server as containers serving <paramref name="model"/> for chat, with the tuned settings as
    /// <c>LLAMA_ARG_*</c> variables; the compose deployment's form of <see cref="LlamaCppBuilderExtensions.AddLlamaCppReplicas"/>.
    /// One replica is the service <paramref name="name"/>; more are <c>name-1</c> ... <c>name-N</c>, sharing one model
    /// fetcher and splitting <c>Llm:Compose:LlmCpus</c> between them, each with the memory limit of one.
    /// </summary>
    public static IResourceBuilder<LlamaCppContainerResource>[] AddLlamaCppContainers(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, ComposeModel model, LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var compose = settings.Compose;
        var replicas = settings.LlamaCpp.Replicas;
        var cpus = compose.LlmCpus / replicas;
        var threads = settings.LlamaCpp.Threads > 0 ? Math.Max(1, settings.LlamaCpp.Threads / replicas) : Math.Max(1, (int)Math.Round(cpus));
        var fetcher = builder.AddModelFetcher(name, model, "LLMAPP_", "chat", settings);
        string[] names = replicas == 1 ? [name] : [.. Enumerable.Range(1, replicas).Select(i => $"{name}-{i}")];
        return
        [
            .. names.Select(replica => builder.AddLlamaServerContainer(replica, name, fetcher, "LLMAPP_", settings.LlamaCpp.ContextPerSlot,
                    LlamaCppArguments.Options(settings.LlamaCpp, threads), settings)
                .WithArgs([.. settings.LlamaCpp.ExtraArgs])
                .WithComposeLimits(compose.LlmMemoryMiB, cpus)
                .OnCudaWhen(settings.LlamaCpp.Cuda)),
        ];
    }

    /// <summary>
    /// llama.cpp's CUDA build instead of the CPU one: its own image (which only an NVIDIA host can run), every layer on
    /// the GPU (<c>LLAMA_ARG_N_GPU_LAYERS</c>) and one GPU reserved for the service.
    /// </summary>
    private static IResourceBuilder<LlamaCppContainerResource> OnCudaWhen(this IResourceBuilder<LlamaCppContainerResource> server, bool cuda) =>
        !cuda ? server : server
            .WithImage(CudaImage, LlamaCppSource.Version)
            .PublishAsComposeImage($"{CudaImage}:{LlamaCppSource.Version}", "./containers/llama-cpp", "Dockerfile.cuda")
            .WithEnvironment("LLAMA_ARG_N_GPU_LAYERS", "999")
            .PublishAsComposeService(service => service.Deploy = ComposeDeploy.OneNvidiaGpu());

    /// <summary>Adds the embedding llama-server as a container; the compose form of <see cref="LlamaCppEmbeddingsBuilderExtensions.AddLlamaCppEmbeddings"/>.</summary>
    public static IResourceBuilder<LlamaCppContainerResource> AddLlamaCppEmbeddingsContainer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, ComposeModel model, LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var compose = settings.Compose;
        var threads = Math.Max(1, (int)Math.Round(compose.EmbeddingsCpus));
        var options = LlamaCppEmbeddingArguments.Options(settings, threads, settings.EmbeddingPooling ?? model.Entry?.Pooling);
        var fetcher = builder.AddModelFetcher(name, model, "LLMAPP_EMBEDDING_", "embedding", settings);
        return builder.AddLlamaServerContainer(name, name, fetcher, "LLMAPP_EMBEDDING_", settings.EmbeddingBatchSize, options, settings)
            .WithComposeLimits(compose.EmbeddingsMemoryMiB, compose.EmbeddingsCpus);
    }

    /// <summary>
    /// A one-shot that makes the deployment's backend key in its volume, for a model server that fetches its own model
    /// (vLLM): the model fetcher's image with <c>--key-only</c>.
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddBackendKeyMaker(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddContainer(name, ModelImage, "latest")
            .PublishAsComposeImage($"{ModelImage}:latest", "./containers/model")
            .WithArgs("--key-only")
            .WithEnvironment("LLMAPP_BACKEND_KEY_FILE", BackendKeyFile)
            .WithVolume(BackendKeyVolume, BackendKeyDirectory)
            // It needs no network at all; the internal one lets it reach nothing.
            .WithComposeHardening([ComposeNetworks.Backend])
            .PublishAsComposeService(service => service.Restart = "no");
    }

    /// <summary>
    /// The one-shot that puts <paramref name="model"/> in the models volume and links it at <c>/models/{model}.gguf</c>
    /// (and makes the backend key, once), for the llama-servers of <paramref name="name"/>.
    /// </summary>
    private static IResourceBuilder<ContainerResource> AddModelFetcher(
        this IDistributedApplicationBuilder builder, string name, ComposeModel model, string prefix, string kind, LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(model);
        var (link, mounted, fileMount) = ModelPaths(name, prefix);
        return builder.AddContainer($"{name}-model", ModelImage, "latest")
            .PublishAsComposeImage($"{ModelImage}:latest", "./containers/model")
            .WithEnvironment("LLMAPP_MODEL", $"${{{prefix}MODEL}}")
            .WithEnvironment("LLMAPP_MODELS_DIR", "/models")
            .WithEnvironment("LLMAPP_MODEL_LINK", link)
            .WithEnvironment("LLMAPP_MODEL_MOUNTED", mounted)
            .WithEnvironment("LLMAPP_HF_ENDPOINT", "${LLMAPP_HF_ENDPOINT}")
            // A token for gated models comes from the shell, never from a file in the repository.
            .WithEnvironment("HF_TOKEN", "${HF_TOKEN:-}")
            .WithVolume(ModelsVolume, "/models")
            .WithEnvironment("LLMAPP_BACKEND_KEY_FILE", BackendKeyFile)
            .WithVolume(BackendKeyVolume, BackendKeyDirectory)
            // The only service that reaches outside: to download the model.
            .WithComposeHardening([ComposeNetworks.Downloads])
            .PublishAsComposeService(service =>
            {
                // One-shot: it exits once the model is in place, and must not be started again by the restart policy.
                service.Restart = "no";
                service.Volumes.Add(fileMount);
            })
            .WithComposeVariable($"{prefix}MODEL", model.Entry?.Name ?? "",
                $"The {kind} model: a name from models/catalog.json, fetched into the models volume on first up (sha256-checked).")
            .WithComposeVariable($"{prefix}MODEL_FILE", model.LocalFile ?? "",
                $"A .gguf file on this machine to serve instead of {prefix}MODEL (mounted read-only); empty: use the catalog model.")
            .WithComposeVariable($"{prefix}SERVED_MODEL", model.ServedName, $"The {kind} model id clients send.")
            .WithComposeVariable("LLMAPP_HF_ENDPOINT", settings.HuggingFaceEndpoint.ToString(), "Where catalog models are downloaded from (Hugging Face or a mirror).");
    }

    /// <summary>
    /// The model reaches llama-server through a link in the models volume that the fetcher points either at the
    /// downloaded catalog file or at the mounted local file; an unset file variable mounts /dev/null, which the
    /// fetcher ignores.
    /// </summary>
    private static (string Link, string Mounted, string FileMount) ModelPaths(string model, string prefix)
    {
        var mounted = $"/mounted/{model}.gguf";
        return ($"/models/{model}.gguf", mounted, $"${{{prefix}MODEL_FILE:-/dev/null}}:{mounted}:ro");
    }

    /// <summary>The llama-server <paramref name="name"/>, serving the model <paramref name="fetcher"/> put in place for <paramref name="model"/>.</summary>
    private static IResourceBuilder<LlamaCppContainerResource> AddLlamaServerContainer(
        this IDistributedApplicationBuilder builder, string name, string model, IResourceBuilder<ContainerResource> fetcher, string prefix, int contextLength,
        IReadOnlyList<LlamaServerOption> options, LlmSettings settings)
    {
        var (link, _, fileMount) = ModelPaths(model, prefix);
        var servedModel = $"${{{prefix}SERVED_MODEL}}";
        var resource = new LlamaCppContainerResource(name, servedModel, contextLength);
        var server = builder.AddResource(resource)
            .WithImage(Image, LlamaCppSource.Version)
            .PublishAsComposeImage($"{Image}:{LlamaCppSource.Version}", "./containers/llama-cpp")
            // Not published on the host: the gateway is the only way in.
            .WithHttpEndpoint(targetPort: Port, name: LlamaCppContainerResource.HttpEndpointName)
            .WithEnvironment("LLAMA_ARG_MODEL", link)
            .WithEnvironment("LLAMA_ARG_ALIAS", servedModel)
            .WithEnvironment("LLAMA_ARG_HOST", "0.0.0.0")
            .WithEnvironment("LLAMA_ARG_PORT", LlamaCppArguments.Invariant(Port))
            .WithVolume(ModelsVolume, "/models", isReadOnly: true)
            // Everything but /health takes the key; the gateway and Prometheus read it from the same volume.
            .WithEnvironment("LLAMA_ARG_API_KEY_FILE", BackendKeyFile)
            .WithVolume(BackendKeyVolume, BackendKeyDirectory, isReadOnly: true)
            .WaitForCompletion(fetcher)
            // On the internal network alone: llama-server answers the gateway and Prometheus, and reaches nothing.
            .WithComposeHardening([ComposeNetworks.Backend])
            .WithBackendKeyGroup()
            .PublishAsComposeService(service =>
            {
                service.Volumes.Add(fileMount);
                service.HealthCheck = ComposeHealthCheck.Http(Port, "/health", TimeSpan.FromSeconds(settings.Compose.ModelLoadSeconds));
            });

        foreach (var option in options)
        {
            if (option.EnvironmentVariable is { } variable)
            {
                server.WithEnvironment(variable, option.EnvironmentValue);
            }
            else
            {
                server.WithArgs([.. option.Arguments]);
            }
        }

        return server;
    }
}
