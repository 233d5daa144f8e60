using LlmApp.AppHost.Memory;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;
using LlmApp.Models;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Setup;

/// <summary>
/// The memory check before anything starts: its arithmetic against hand computations and llama-server's own figures,
/// and the one line that refuses a model, naming what would fit.
/// </summary>
public sealed class MemoryFitTests
{
    private const long MiB = 1L << 20;
    private const long GiB = 1L << 30;

    // The AppHost's defaults: two slots of 4096 tokens, a 512-token batch, a 512 MiB prompt cache.
    private static readonly ServerLoad s_defaults = ServerLoad.Chat(new LlmSettings());

    // The target box, an EC2 c7i-flex.large.
    private static readonly MemoryLimit s_fourGiB = new(4 * GiB, "the c7i-flex.large's 4.00 GiB");

    private static readonly ModelCatalog s_catalog = ModelCatalog.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "catalog.json"));

    [Fact]
    public void TheKvCacheIsContextTimesSlotsTimesLayersTimesKvHeadsTimesHeadLengthTimesTwoTimesTwoBytes()
    {
        var llama8B = Entry("llama-3.1-8b-instruct").Shape!;

        var estimate = MemoryFit.Estimate(0, llama8B, s_defaults);

        // 4096 tokens × 2 slots × 32 layers × 8 KV heads × 128 × 2 (K and V) × 2 bytes (f16).
        Assert.Equal(4096L * 2 * 32 * 8 * 128 * 2 * 2, estimate.KvCache);
        Assert.Equal(1 * GiB, estimate.KvCache);
    }

    [Fact]
    public void TheContextIsRoundedUpTo256TokensAsLlamaCppDoes()
    {
        var tiny = GgufHeader.ReadShape(TinyModel);

        var estimate = MemoryFit.Estimate(0, tiny, s_defaults with { ContextPerSlot = 300 });

        // llama.cpp: n_ctx 600 → 768, per slot 384 → 512. One layer × 2 KV heads × (4 + 4) × 2 bytes = 32 bytes a token.
        Assert.Equal(512, estimate.SlotContext);
        Assert.Equal(512L * 2 * 32, estimate.KvCache);
    }

    [Fact]
    public void TheOverheadIsTheComputeBufferLlamaCppReportsForTheMeasuredShape()
    {
        // The Llama 3.2 1B shape with a 32,000-token vocabulary (scripts/synthetic-gguf.py), at the defaults:
        // llama-server 0.4.0 logged "CPU compute buffer size = 68.01 MiB" and "CPU output buffer size = 0.24 MiB".
        var shape = new ModelShape("llama", 16, 32, 8, 2048, 64, 64, 8192, 32000, 8192);

        var estimate = MemoryFit.Estimate(638_885_152, shape, s_defaults);

        Assert.Equal((68 * MiB) + (2 * 32000 * 4) + (16 * MiB), estimate.Overhead);
        Assert.Equal(256 * MiB, estimate.KvCache);
        Assert.Equal(638_885_152 / 4, estimate.PageCacheHeadroom);
        Assert.Equal(512 * MiB, estimate.PromptCache);
    }

    [Fact]
    public void AnEmbeddingModelWithoutCausalAttentionHasNoKvCacheButOutputsForEveryTokenOfTheBatch()
    {
        var nomic = Entry("nomic-embed-text-v1.5");

        var estimate = MemoryFit.Estimate(nomic.Size, nomic.Shape!, ServerLoad.Embedding(new LlmSettings()));

        Assert.Equal(0, estimate.KvCache);
        Assert.Equal(0, estimate.PageCacheHeadroom);
        Assert.Equal(0, estimate.PromptCache);
        // Logits over 30,522 tokens and a 768-wide vector for each of the 2048 tokens: 244 MiB, measured in llama-server's
        // resident memory after a 2,032-token input.
        var output = 2048L * (30522 + 768) * 4;
        Assert.InRange(estimate.Overhead - output, 100 * MiB, 130 * MiB);
    }

    [Fact]
    public void TheEightBillionModelIsRefusedOnTheTargetBoxNamingWhatFits()
    {
        var llama8B = ServerToFit.FromCatalog(Entry("llama-3.1-8b-instruct"), s_defaults);

        var error = Assert.Throws<SetupException>(() => MemoryFit.EnsureFits([llama8B], s_fourGiB, s_catalog));

        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith(
            "llama-3.1-8b-instruct needs about 7.36 GiB (", error.Message, StringComparison.Ordinal);
        Assert.Contains(
            "(model 4.58 GiB + KV cache 1.00 GiB for 2 slots × 4096 tokens + overhead 0.13 GiB + page-cache headroom 1.15 GiB + prompt cache 0.50 GiB (Llm:LlamaCpp:PromptCacheMiB)), "
            + "more than the c7i-flex.large's 4.00 GiB. What fits: llama-3.2-1b-instruct, qwen2.5-0.5b-instruct (Llm:Model). "
            + "Llm:MemoryCheck false skips this check.",
            error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("llama-3.2-1b-instruct")]
    [InlineData("qwen2.5-0.5b-instruct")]
    public void TheSmallModelsFitTheTargetBox(string name)
    {
        var server = ServerToFit.FromCatalog(Entry(name), s_defaults);

        MemoryFit.EnsureFits([server], s_fourGiB, s_catalog);

        Assert.InRange(MemoryFit.Estimate(server).Total, 512 * MiB, 2 * GiB);
    }

    [Fact]
    public void AModelThatFitsWithLessContextSaysHowMuch()
    {
        var llama1B = ServerToFit.FromCatalog(Entry("llama-3.2-1b-instruct"), s_defaults);
        // One byte more than the 1B needs at 2048 tokens a slot: 2048 fits, 2304 does not.
        var limit = new MemoryLimit(MemoryFit.Estimate(llama1B with { Load = s_defaults with { ContextPerSlot = 2048 } }).Total + 1, "a small box's");

        var error = Assert.Throws<SetupException>(() => MemoryFit.EnsureFits([llama1B], limit, s_catalog));

        Assert.Contains("What fits: qwen2.5-0.5b-instruct (Llm:Model), or Llm:LlamaCpp:ContextPerSlot 2048 or less.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingFittingSaysNone()
    {
        var qwen = ServerToFit.FromCatalog(Entry("qwen2.5-0.5b-instruct"), s_defaults);

        var error = Assert.Throws<SetupException>(() => MemoryFit.EnsureFits([qwen], MemoryLimit.FromSetting(256, "the llm service", "Llm:Compose:LlmMemoryMiB"), s_catalog));

        Assert.Contains(", more than the llm service's memory limit of 0.25 GiB (Llm:Compose:LlmMemoryMiB). What fits: none.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheChatAndEmbeddingServersAreAddedTogether()
    {
        var settings = new LlmSettings();
        var llama1B = ServerToFit.FromCatalog(Entry("llama-3.2-1b-instruct"), ServerLoad.Chat(settings));
        var nomic = ServerToFit.FromCatalog(Entry("nomic-embed-text-v1.5"), ServerLoad.Embedding(settings));
        var both = MemoryFit.Estimate(llama1B).Total + MemoryFit.Estimate(nomic).Total;

        MemoryFit.EnsureFits([llama1B, nomic], new MemoryLimit(both, "just enough"), s_catalog);
        var error = Assert.Throws<SetupException>(() => MemoryFit.EnsureFits([llama1B, nomic], new MemoryLimit(both - 1, "one byte short"), s_catalog));

        Assert.Contains(", and nomic-embed-text-v1.5 0.4", error.Message, StringComparison.Ordinal);
        Assert.Contains($": {MemoryEstimate.Gib(both)} together, more than one byte short.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCatalogModelHasAShapeTheEstimateCanUse()
    {
        Assert.NotEmpty(s_catalog.Models);
        Assert.All(s_catalog.Models, model =>
        {
            var shape = Assert.IsType<ModelShape>(model.Shape);
            Assert.True(shape.Layers > 0 && shape.Heads > 0 && shape.EmbeddingLength > 0 && shape.FeedForwardLength > 0, model.Name);
            Assert.True(shape.KvHeads > 0 && shape.Heads % shape.KvHeads == 0, $"{model.Name}: KV heads must divide heads");
            Assert.True(shape.KeyLength > 0 && shape.ValueLength > 0 && shape.VocabSize > 0 && shape.TrainedContext > 0, model.Name);
            Assert.Equal(model.Kind == CatalogEntry.ChatKind, shape.HasKvCache);
        });
    }

    [Fact]
    public void ASettingIsSizedFromTheCatalogOrTheFileAndOtherwiseLeftToTheResolver()
    {
        var catalogModel = ServerToFit.ForSetting("llama-3.1-8b-instruct", CatalogEntry.ChatKind, s_catalog, s_defaults);
        var file = ServerToFit.ForSetting(TinyModel, CatalogEntry.ChatKind, s_catalog, s_defaults);

        Assert.Equal(4_920_739_232, catalogModel?.FileBytes);
        Assert.Equal(("llama-2-tiny-random.gguf", 1_750_560L, 1), (file?.Name, file?.FileBytes, file?.Shape.Layers));
        Assert.Null(ServerToFit.ForSetting("no-such-model", CatalogEntry.ChatKind, s_catalog, s_defaults));
        Assert.Null(ServerToFit.ForSetting("nomic-embed-text-v1.5", CatalogEntry.ChatKind, s_catalog, s_defaults));
        Assert.Null(ServerToFit.ForSetting("/nowhere/missing.gguf", CatalogEntry.ChatKind, s_catalog, s_defaults));
        Assert.Null(ServerToFit.ForSetting(null, CatalogEntry.EmbeddingKind, s_catalog, s_defaults));
    }

    [Fact]
    public void ThisMachinesLimitIsItsPhysicalMemoryOrItsContainersLowerOne()
    {
        var limit = Assert.IsType<MemoryLimit>(MemoryLimit.OfThisMachine());

        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, limit.Bytes);
            return;
        }

        var memTotal = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var bytes = long.Parse(memTotal.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        if (limit.Description.StartsWith("this container's", StringComparison.Ordinal))
        {
            Assert.True(limit.Bytes < bytes, $"{limit.Description} is not below MemTotal ({bytes} bytes)");
        }
        else
        {
            Assert.Equal(bytes, limit.Bytes);
            Assert.StartsWith("this machine's ", limit.Description, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("0::/system.slice/llm.service", "/sys/fs/cgroup/system.slice/memory.max", "3221225472", 3L << 30)]
    [InlineData("0::/", "/sys/fs/cgroup/memory.max", "max", 8L << 30)]
    [InlineData("4:memory:/docker/abc", "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "2147483648", 2L << 30)]
    [InlineData("4:memory:/", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712", 8L << 30)]
    [InlineData("4:memory:/docker/abc", "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "17179869184", 8L << 30)]
    public void OnLinuxTheLowestCgroupLimitOnTheWayUpWinsOverMemTotal(string cgroup, string limitFile, string limitText, long expected)
    {
        // 8 GiB of physical memory; one limit somewhere on the cgroup's way up to the root ("max" and v1's huge number are none).
        var files = new Dictionary<string, string[]>
        {
            ["/proc/meminfo"] = ["MemTotal:        8388608 kB", "MemFree:         1000000 kB"],
            ["/proc/self/cgroup"] = [cgroup],
            [limitFile] = [limitText],
        };

        var limit = Assert.IsType<MemoryLimit>(MemoryLimit.OfThisMachine(linux: true, path => files.GetValueOrDefault(path, [])));

        Assert.Equal(expected, limit.Bytes);
        Assert.StartsWith(expected < 8L << 30 ? "this container's memory limit of " : "this machine's 8.00 GiB", limit.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAppHostRefusesAModelThatCannotFitBeforeAnythingStarts()
    {
        // The tiny model at two billion tokens a slot: its attention mask alone over 1.8 TiB, more than any test machine.
        // A server path that does not exist: were the check to pass, nothing would be built or started.
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost",
            [$"--Llm:Model={TinyModel}", "--Llm:LlamaCpp:ContextPerSlot=2000000000", "--Llm:ServerPath=/nowhere/llama-server"]);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("llmapp: error: llama-2-tiny-random.gguf needs about ", line, StringComparison.Ordinal);
        Assert.Contains("KV cache 119.21 GiB for 2 slots × 2000000000 tokens", line, StringComparison.Ordinal);
        Assert.Contains(", more than this ", line, StringComparison.Ordinal);
        Assert.Contains("What fits: Llm:LlamaCpp:ContextPerSlot ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    private static string TinyModel => TestPaths.TinyModel;

    private static CatalogEntry Entry(string name) => s_catalog.Find(name) ?? throw new InvalidOperationException($"{name} is not in the catalog.");
}
