using System.Globalization;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;

namespace Aspire.Hosting;

/// <summary>llama-server's tuned settings, with the reason for each default next to it; shared by the executable and the container.</summary>
internal static class LlamaCppArguments
{
    /// <summary>The native executable's command line: the model, loopback only, then the tuned settings.</summary>
    public static string[] For(ResolvedModel model, LlamaCppSettings settings)
    {
        var threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        return
        [
            "--model", model.Path,
            // Clients (and /v1/models) see the served name, never a file path.
            "--alias", model.ServedName,
            "--host", "127.0.0.1",
            .. Options(settings, threads).SelectMany(option => option.Arguments),
            .. settings.ExtraArgs,
        ];
    }

    public static IReadOnlyList<LlamaServerOption> Options(LlamaCppSettings settings, int threads) =>
    [
        // Prometheus counters and gauges at /metrics, for the operators' existing stack.
        new("LLAMA_ARG_ENDPOINT_METRICS", "1", "--metrics"),
        // /slots shows what each slot is doing, for operators and the tests (the gateway learns capacity from /props).
        new("LLAMA_ARG_ENDPOINT_SLOTS", "1", "--slots"),
        // Every core: on 2 vCPU two threads generate 1.4-1.9x as fast as one (docs/performance.md, "settings, swept").
        new("LLAMA_ARG_THREADS", Invariant(threads), "--threads", Invariant(threads)),
        // Reading a prompt is compute and scales with the cores (1.9-2.0x with two): every core for it as well.
        // (No environment form: unset, it follows --threads, which is the same value.)
        new(null, "", "--threads-batch", Invariant(threads)),
        // Two slots: a second caller's first token comes about a third sooner than behind one slot, for slower
        // streams while both run; total tok/s is the same (measured; one slot where stream speed matters more).
        new("LLAMA_ARG_N_PARALLEL", Invariant(settings.Parallel), "--parallel", Invariant(settings.Parallel)),
        // The context is shared among the slots: each gets ContextPerSlot tokens.
        new("LLAMA_ARG_CTX_SIZE", Invariant(settings.ContextPerSlot * settings.Parallel), "--ctx-size", Invariant(settings.ContextPerSlot * settings.Parallel)),
        // A 458-token prompt in one pass: 512 reads it 10% faster than 128, and 128 also slows streams more.
        new("LLAMA_ARG_BATCH", Invariant(settings.BatchSize), "--batch-size", Invariant(settings.BatchSize)),
        new("LLAMA_ARG_UBATCH", Invariant(settings.BatchSize), "--ubatch-size", Invariant(settings.BatchSize)),
        // Flash attention: never slower beyond the noise, and +19-37% generation for the 3B and 8B shapes on CPU.
        new("LLAMA_ARG_FLASH_ATTN", "on", "--flash-attn", "on"),
        // An f16 KV cache: q8_0 halves its memory but costs up to half the speed once the context fills (measured).
        new("LLAMA_ARG_CACHE_TYPE_K", "f16", "--cache-type-k", "f16"),
        new("LLAMA_ARG_CACHE_TYPE_V", "f16", "--cache-type-v", "f16"),
        // (The model stays memory-mapped, llama.cpp's default: as fast as loading or mlock here, and the only way a
        // model larger than the free memory runs at all.)
        new("LLAMA_ARG_CACHE_RAM", Invariant(settings.PromptCacheMiB), "--cache-ram", Invariant(settings.PromptCacheMiB)),
        // Continuous batching: a new request joins the running batch instead of waiting for it to finish.
        new("LLAMA_ARG_CONT_BATCHING", "1", "--cont-batching"),
        // The chat template in the GGUF file is applied by llama.cpp's built-in templates: with the Jinja
        // engine, grammar-constrained output (json_schema) fails on the reference test model.
        new("LLAMA_ARG_JINJA", "0", "--no-jinja"),
        // The gateway is the API; llama-server's own web chat page would only be a second, unguarded door.
        new("LLAMA_ARG_UI", "0", "--no-ui"),
    ];

    public static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
