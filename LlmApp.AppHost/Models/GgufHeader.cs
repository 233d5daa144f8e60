using System.Text;
using LlmApp.Models;

namespace LlmApp.AppHost.Models;

/// <summary>
/// Reads a model's shape from the metadata at the start of a GGUF (v2 or v3) file, without loading the model: the
/// memory check needs it before llama-server starts. Arrays and strings it does not need are skipped, never read into
/// memory (a Llama 3 file carries 128,256 token strings and 280,147 merges).
/// </summary>
/// <remarks>Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (little-endian).</remarks>
public static class GgufHeader
{
    /// <summary>The shape of the model in <paramref name="path"/>; a file that is not a readable GGUF model is a <see cref="SetupException"/>.</summary>
    public static ModelShape ReadShape(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Metadata metadata;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            metadata = new MetadataReader(reader).Read();
        }
        catch (EndOfStreamException ex)
        {
            throw new SetupException($"{path} is not a GGUF model file: it ends inside its header.", ex);
        }
        catch (Exception ex) when (ex is InvalidDataException or OverflowException)
        {
            throw new SetupException($"{path} is not a GGUF model file: {ex.Message}.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SetupException($"{path} could not be read: {ex.Message}", ex);
        }

        return ShapeFrom(metadata, path);
    }

    private static ModelShape ShapeFrom(Metadata metadata, string path)
    {
        if (!metadata.Strings.TryGetValue("general.architecture", out var arch))
        {
            throw new SetupException($"{path} is not a GGUF model file: it has no general.architecture.");
        }

        int Required(string name) => metadata.Integers.TryGetValue($"{arch}.{name}", out var value)
            ? checked((int)value)
            : throw new SetupException($"{path} has no {arch}.{name}, so its memory cannot be estimated; Llm:MemoryCheck false skips the check.");

        int Optional(string name, int fallback) =>
            metadata.Integers.TryGetValue($"{arch}.{name}", out var value) ? checked((int)value) : fallback;

        var embedding = Required("embedding_length");
        var heads = Required("attention.head_count");
        // Recurrent architectures (Mamba) have no attention heads, and no KV cache to size.
        var headLength = heads > 0 ? embedding / heads : 0;
        var vocab = metadata.ArrayLengths.TryGetValue("tokenizer.ggml.tokens", out var tokens) ? checked((int)tokens) : Optional("vocab_size", 0);
        return new ModelShape(
            Architecture: arch,
            Layers: Required("block_count"),
            Heads: heads,
            KvHeads: Optional("attention.head_count_kv", heads),
            EmbeddingLength: embedding,
            KeyLength: Optional("attention.key_length", headLength),
            ValueLength: Optional("attention.value_length", headLength),
            // llama.cpp's own default when a file leaves it out.
            FeedForwardLength: Optional("feed_forward_length", 4 * embedding),
            VocabSize: vocab,
            TrainedContext: Optional("context_length", 0));
    }

    /// <summary>The header's integers (an integer array as its largest element), its strings, and the length of every array.</summary>
    private sealed record Metadata(Dictionary<string, long> Integers, Dictionary<string, string> Strings, Dictionary<string, long> ArrayLengths);

    private enum ValueType : uint
    {
        UInt8, Int8, UInt16, Int16, UInt32, Int32, Float32, Bool, String, Array, UInt64, Int64, Float64,
    }

    private sealed class MetadataReader(BinaryReader reader)
    {
        private const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32

        private readonly BinaryReader _reader = reader;
        private readonly long _length = reader.BaseStream.Length;
        private readonly Metadata _metadata = new(new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal));

        public Metadata Read()
        {
            if (_length < 24 || _reader.ReadUInt32() != Magic)
            {
                throw new InvalidDataException("it does not start with 'GGUF'");
            }

            var version = _reader.ReadUInt32();
            if (version is not (2 or 3))
            {
                // Version 1 had 32-bit lengths; a byte-swapped (big-endian) file reads as a huge version.
                throw new InvalidDataException($"GGUF version {version} is not supported (2 and 3 are)");
            }

            _ = _reader.ReadUInt64(); // the tensor count: tensors follow the metadata, and are not needed
            var count = _reader.ReadUInt64();
            for (ulong i = 0; i < count; i++)
            {
                var key = ReadString();
                var type = (ValueType)_reader.ReadUInt32();
                if (type == ValueType.String)
                {
                    _metadata.Strings[key] = ReadString();
                }
                else if (type == ValueType.Array)
                {
                    ReadArray(key);
                }
                else if (ReadScalar(type) is { } value)
                {
                    _metadata.Integers[key] = value;
                }
            }

            return _metadata;
        }

        private void ReadArray(string key)
        {
            var type = (ValueType)_reader.ReadUInt32();
            var length = _reader.ReadUInt64();
            // Every element takes a byte at least: a longer array runs past the end (a cut-off or damaged file), and
            // looping over its claimed length could take ages.
            if (length > Remaining)
            {
                throw new EndOfStreamException();
            }

            _metadata.ArrayLengths[key] = (long)length;
            if (type == ValueType.String)
            {
                for (ulong i = 0; i < length; i++)
                {
                    Skip(ReadLength());
                }

                return;
            }

            if (type == ValueType.Array)
            {
                throw new InvalidDataException($"its array {key} holds arrays");
            }

            // Per-layer values (head_count_kv of a model whose layers differ): the largest bounds the memory.
            long? largest = null;
            for (ulong i = 0; i < length; i++)
            {
                if (ReadScalar(type) is { } value && (largest is null || value > largest))
                {
                    largest = value;
                }
            }

            if (largest is { } max)
            {
                _metadata.Integers[key] = max;
            }
        }

        /// <summary>One scalar: an integer or bool as a long; a float is read past and comes back null.</summary>
        private long? ReadScalar(ValueType type) => type switch
        {
            ValueType.UInt8 or ValueType.Bool => _reader.ReadByte(),
            ValueType.Int8 => _reader.ReadSByte(),
            ValueType.UInt16 => _reader.ReadUInt16(),
            ValueType.Int16 => _reader.ReadInt16(),
            ValueType.UInt32 => _reader.ReadUInt32(),
            ValueType.Int32 => _reader.ReadInt32(),
            ValueType.UInt64 => checked((long)_reader.ReadUInt64()),
            ValueType.Int64 => _reader.ReadInt64(),
            ValueType.Float32 => Skip(4),
            ValueType.Float64 => Skip(8),
            _ => throw new InvalidDataException($"it has a value of unknown type {(uint)type}"),
        };

        private string ReadString() => Encoding.UTF8.GetString(_reader.ReadBytes(checked((int)ReadLength())));

        private long ReadLength()
        {
            var length = _reader.ReadUInt64();
            return length <= Remaining ? (long)length : throw new EndOfStreamException();
        }

        private ulong Remaining => (ulong)(_length - _reader.BaseStream.Position);

        private long? Skip(long bytes)
        {
            _reader.BaseStream.Seek(bytes, SeekOrigin.Current);
            return null;
        }
    }
}
