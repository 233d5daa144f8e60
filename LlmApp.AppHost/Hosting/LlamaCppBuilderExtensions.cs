using System.Globalization;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Setup;

namespace Aspire.Hosting;

public static class LlamaCppBuilderExtensions
{
    /// <summary>
    /// Adds llama-server as a native executable serving <paramref name="model"/> over an OpenAI-compatible API,
    /// with Prometheus metrics on and a health check on its <c>/health</c>.
    /// </summary>
    public static IResourceBuilder<LlamaCppResource> AddLlamaCpp(
        this IDistributedApplicationBuilder builder,
        [ResourceName] string name,
        string serverPath,
        ResolvedModel model,
        LlamaCppSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(serverPath);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);

        return builder.AddLlamaServer(name, serverPath, model.ServedName, settings.ContextPerSlot, LlamaCppArguments.For(model, settings));
    }

    /// <summary>A llama-server executable with <paramref name="arguments"/>, its port from Aspire and a health check on <c>/health</c>.</summary>
    internal static IResourceBuilder<LlamaCppResource> AddLlamaServer(
        this IDistributedApplicationBuilder builder, string name, string serverPath, string servedModel, int contextLength, string[] arguments)
    {
        var resource = new LlamaCppResource(name, serverPath, Path.GetDirectoryName(serverPath)!, servedModel, contextLength);
        return builder.AddResource(resource)
            // llama-server reads its port from LLAMA_ARG_PORT, so Aspire can pick a free one. Not proxied: the gateway
            // talks to llama-server directly, so that a closed connection reaches it at once (it frees the slot) and
            // no extra hop sits on the per-token path.
            .WithHttpEndpoint(name: LlamaCppResource.HttpEndpointName, env: "LLAMA_ARG_PORT", isProxied: false)
            .WithArgs(arguments)
            .WithHttpHealthCheck("/health", endpointName: LlamaCppResource.HttpEndpointName);
    }
}

/// <summary>The llama-server command line, with the reason for each default next to it.</summary>
internal static class LlamaCppArguments
{
    public static string[] For(ResolvedModel model, LlamaCppSettings settings)
    {
        var threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        string[] arguments =
        [
            "--model", model.Path,
            // Clients (and /v1/models) see the served name, never a file path.
            "--alias", model.ServedName,
            "--host", "127.0.0.1",
            // Prometheus counters and gauges at /metrics, for the operators' existing stack.
            "--metrics",
            // /slots shows what each slot is doing, for operators and the tests (the gateway learns capacity from /props).
            "--slots",
            // Every core: on 2 vCPU two threads generate 1.4-1.9x as fast as one (docs/performance.md, "settings, swept").
            "--threads", Invariant(threads),
            // Reading a prompt is compute and scales with the cores (1.9-2.0x with two): every core for it as well.
            "--threads-batch", Invariant(threads),
            // Two slots: a second caller's first token comes about a third sooner than behind one slot, for slower
            // streams while both run; total tok/s is the same (measured; one slot where stream speed matters more).
            "--parallel", Invariant(settings.Parallel),
            // The context is shared among the slots: each gets ContextPerSlot tokens.
            "--ctx-size", Invariant(settings.ContextPerSlot * settings.Parallel),
            // A 458-token prompt in one pass: 512 reads it 10% faster than 128, and 128 also slows streams more.
            "--batch-size", Invariant(settings.BatchSize),
            "--ubatch-size", Invariant(settings.BatchSize),
            // Flash attention: never slower beyond the noise, and +19-37% generation for the 3B and 8B shapes on CPU.
            "--flash-attn", "on",
            // An f16 KV cache: q8_0 halves its memory but costs up to half the speed once the context fills (measured).
            "--cache-type-k", "f16",
            "--cache-type-v", "f16",
            // (The model stays memory-mapped, llama.cpp's default: as fast as loading or mlock here, and the only way a
            // model larger than the free memory runs at all.)
            "--cache-ram", Invariant(settings.PromptCacheMiB),
            // Continuous batching: a new request joins the running batch instead of waiting for it to finish.
            "--cont-batching",
            // The chat template in the GGUF file is applied by llama.cpp's built-in templates: with the Jinja
            // engine, grammar-constrained output (json_schema) fails on the reference test model.
            "--no-jinja",
            // The gateway is the API; llama-server's own web chat page would only be a second, unguarded door.
            "--no-webui",
        ];

        return [.. arguments, .. settings.ExtraArgs];
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
