namespace LlmApp.Models;

/// <summary>
/// The dimensions of a model that size llama-server's memory beyond the file itself: the KV cache (layers, KV heads,
/// key and value lengths), the compute buffers (embedding and feed-forward lengths) and the output buffer (vocabulary).
/// Read from a .gguf header (GgufHeader) or, for a model not yet downloaded, from the catalog.
/// </summary>
public sealed record ModelShape(
    string Architecture,
    int Layers,
    int Heads,
    int KvHeads,
    int EmbeddingLength,
    int KeyLength,
    int ValueLength,
    int FeedForwardLength,
    int VocabSize,
    int TrainedContext)
{
    // llama.cpp gives these architectures no KV cache at all (llama_model::create_memory returns none): their
    // attention is non-causal over one batch, so an embedding server of them holds no per-token state.
    private static readonly HashSet<string> s_withoutKvCache = new(StringComparer.Ordinal)
    {
        "bert", "jina-bert-v2", "jina-bert-v3", "nomic-bert", "nomic-bert-moe", "neo-bert", "eurobert", "modern-bert",
        "gemma-embedding", "wavtokenizer-dec", "dream", "llada", "llada-moe", "rnd1",
    };

    /// <summary>Whether llama.cpp allocates a KV cache for this architecture.</summary>
    public bool HasKvCache => !s_withoutKvCache.Contains(Architecture);

    /// <summary>Bytes one token takes in an f16 KV cache, all layers: K and V, two bytes an element.</summary>
    public long KvBytesPerToken => HasKvCache ? (long)Layers * KvHeads * (KeyLength + ValueLength) * 2 : 0;
}
