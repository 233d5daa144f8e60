using System.Text;
using LlmApp.AppHost.Models;
using LlmApp.Tests.Infrastructure;
using LlmApp.Models;

namespace LlmApp.Tests.Setup;

/// <summary>The shape of a model read from its GGUF header: what the memory check sizes a local .gguf by.</summary>
public sealed class GgufHeaderTests
{
    // The shared tiny model itself, not LLMAPP_TEST_MODEL: the expected shape is this file's.
    private static readonly string s_tinyModel = TestPaths.TinyModel;

    [Fact]
    public void TheTinyModelsShapeIsWhatLlamaServerReportsForIt()
    {
        var shape = GgufHeader.ReadShape(s_tinyModel);

        // llama-server 0.4.0 on this file: arch llama, n_layer 1, n_head 2, n_head_kv 2, n_embd 8, n_embd_head_k/v 4,
        // n_ff 32, n_vocab 32000, n_ctx_train 4096; "KV buffer size = 0.25 MiB" at --parallel 2 --ctx-size 8192.
        Assert.Equal(new ModelShape("llama", Layers: 1, Heads: 2, KvHeads: 2, EmbeddingLength: 8, KeyLength: 4, ValueLength: 4,
            FeedForwardLength: 32, VocabSize: 32000, TrainedContext: 4096), shape);
        Assert.Equal(256 * 1024, shape.KvBytesPerToken * 8192);
    }

    [Fact]
    public void TheCatalogEntryOfTheTinyModelIsItsFile()
    {
        var entry = TestPaths.Catalog.Find(TestModelLocator.CatalogName);

        Assert.NotNull(entry);
        Assert.Equal(GgufHeader.ReadShape(s_tinyModel), entry.Shape);
        Assert.Equal(new FileInfo(s_tinyModel).Length, entry.Size);
        Assert.Equal(Path.GetFileName(s_tinyModel), entry.File);
    }

    [Fact]
    public void ExplicitLengthsPerLayerArraysAndSkippedValuesAreReadRight()
    {
        var path = Scratch("gqa.gguf");
        WriteGguf(path, 3, w =>
        {
            w.String("general.architecture", "qwen3");
            w.StringArray("tokenizer.ggml.merges", ["a b", "c d", "e f"]);
            w.Float("qwen3.rope.freq_base", 1e6f);
            w.UInt32("qwen3.block_count", 28);
            w.UInt32("qwen3.embedding_length", 1024);
            w.UInt32("qwen3.attention.head_count", 16);
            // Per-layer KV heads: the largest bounds the cache.
            w.Int32Array("qwen3.attention.head_count_kv", [4, 8, 2]);
            w.UInt32("qwen3.attention.key_length", 128);
            w.UInt32("qwen3.attention.value_length", 128);
            w.UInt64("qwen3.feed_forward_length", 3072);
            w.UInt32("qwen3.context_length", 40960);
            w.StringArray("tokenizer.ggml.tokens", ["<a>", "<b>", "<c>", "<d>", "<e>"]);
        });

        var shape = GgufHeader.ReadShape(path);

        Assert.Equal(new ModelShape("qwen3", 28, 16, KvHeads: 8, 1024, KeyLength: 128, ValueLength: 128, 3072, VocabSize: 5, 40960), shape);
    }

    [Fact]
    public void MissingOptionalKeysTakeLlamaCppsDefaults()
    {
        var path = Scratch("defaults.gguf");
        WriteGguf(path, 2, w =>
        {
            w.String("general.architecture", "llama");
            w.UInt32("llama.block_count", 2);
            w.UInt32("llama.embedding_length", 64);
            w.UInt32("llama.attention.head_count", 4);
        });

        var shape = GgufHeader.ReadShape(path);

        // KV heads = heads, key and value length = embedding / heads, feed-forward = 4 × embedding.
        Assert.Equal(new ModelShape("llama", 2, 4, KvHeads: 4, 64, KeyLength: 16, ValueLength: 16, FeedForwardLength: 256, VocabSize: 0, TrainedContext: 0), shape);
    }

    [Fact]
    public void AFileThatIsNotGgufIsOneLineNamingIt()
    {
        var path = Scratch("notes.gguf");
        File.WriteAllText(path, "these are not the weights you are looking for\n");

        var error = Assert.Throws<SetupException>(() => GgufHeader.ReadShape(path));

        Assert.Equal($"{path} is not a GGUF model file: it does not start with 'GGUF'.", error.Message);
    }

    [Fact]
    public void ACutOffHeaderIsOneLineNamingTheFile()
    {
        var path = Scratch("cut.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(s_tinyModel)[..4000]);

        var error = Assert.Throws<SetupException>(() => GgufHeader.ReadShape(path));

        Assert.Equal($"{path} is not a GGUF model file: it ends inside its header.", error.Message);
    }

    [Fact]
    public void AnUnsupportedVersionIsNamed()
    {
        var path = Scratch("v1.gguf");
        WriteGguf(path, 1, _ => { });

        var error = Assert.Throws<SetupException>(() => GgufHeader.ReadShape(path));

        Assert.Equal($"{path} is not a GGUF model file: GGUF version 1 is not supported (2 and 3 are).", error.Message);
    }

    [Fact]
    public void AMissingRequiredKeyIsNamedWithTheWayAround()
    {
        var path = Scratch("no-layers.gguf");
        WriteGguf(path, 3, w =>
        {
            w.String("general.architecture", "llama");
            w.UInt32("llama.embedding_length", 64);
            w.UInt32("llama.attention.head_count", 4);
        });

        var error = Assert.Throws<SetupException>(() => GgufHeader.ReadShape(path));

        Assert.Equal($"{path} has no llama.block_count, so its memory cannot be estimated; Llm:MemoryCheck false skips the check.", error.Message);
    }

    private static string Scratch(string name) => Path.Combine(TestPaths.NewScratchDirectory(), name);

    private static void WriteGguf(string path, uint version, Action<GgufWriter> metadata)
    {
        using var body = new MemoryStream();
        using var bodyWriter = new BinaryWriter(body);
        var pairs = new GgufWriter(bodyWriter);
        metadata(pairs);
        bodyWriter.Flush();

        using var file = new BinaryWriter(File.Create(path));
        file.Write("GGUF"u8);
        file.Write(version);
        file.Write(0UL); // tensors
        file.Write((ulong)pairs.Count);
        file.Write(body.ToArray());
    }

    /// <summary>GGUF metadata pairs, in the format's little-endian encoding.</summary>
    private sealed class GgufWriter(BinaryWriter writer)
    {
        public int Count { get; private set; }

        public void UInt32(string key, uint value) => Pair(key, 4, () => writer.Write(value));

        public void UInt64(string key, ulong value) => Pair(key, 10, () => writer.Write(value));

        public void Float(string key, float value) => Pair(key, 6, () => writer.Write(value));

        public void String(string key, string value) => Pair(key, 8, () => Text(value));

        public void Int32Array(string key, int[] values) => Pair(key, 9, () =>
        {
            writer.Write(5u);
            writer.Write((ulong)values.Length);
            Array.ForEach(values, writer.Write);
        });

        public void StringArray(string key, string[] values) => Pair(key, 9, () =>
        {
            writer.Write(8u);
            writer.Write((ulong)values.Length);
            Array.ForEach(values, Text);
        });

        private void Pair(string key, uint type, Action value)
        {
            Text(key);
            writer.Write(type);
            value();
            Count++;
        }

        private void Text(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            writer.Write((ulong)bytes.Length);
            writer.Write(bytes);
        }
    }
}
