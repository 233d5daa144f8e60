#!/usr/bin/env python3
"""Writes a random-weight Llama GGUF of a real model's shape, so that the timings of a model that cannot be downloaded
here (Hugging Face is out of reach) can still be measured: speed depends on the shape and the quantization, not on what
the weights say. The vocabulary comes from a small GGUF (the tests' tiny model: Llama 2's 32,000 tokens), so the
embedding and output layers are smaller than the real models' 128,256-token ones.

    python3 scripts/synthetic-gguf.py --shape 8b --vocab-from "$(scripts/test-model.sh)" --out llama-8b-f16.gguf

Needs llama.cpp's gguf-py (kept beside the cached llama-server build: PYTHONPATH=<cache>/gguf-py) and numpy
(Debian: python3-numpy). Writes F16, one tensor at a time; quantize the result with llama-quantize.
"""
import argparse
import sys

import numpy as np
import gguf

# The published architectures: Llama 3.2 1B and 3B (tied embeddings), Llama 3.1 8B.
SHAPES = {
    "1b": dict(name="Llama-3.2-1B-shaped", embd=2048, layers=16, heads=32, kv_heads=8, ff=8192, tied=True),
    "3b": dict(name="Llama-3.2-3B-shaped", embd=3072, layers=28, heads=24, kv_heads=8, ff=8192, tied=True),
    "8b": dict(name="Llama-3.1-8B-shaped", embd=4096, layers=32, heads=32, kv_heads=8, ff=14336, tied=False),
}


BYTE, CONTROL = int(gguf.TokenType.BYTE), int(gguf.TokenType.CONTROL)


def vocabulary(path):
    reader = gguf.GGUFReader(path)

    def field(name):
        f = reader.fields[name]
        return [f.parts[i] for i in f.data]

    tokens = [bytes(t).decode("utf-8", errors="replace") for t in field("tokenizer.ggml.tokens")]
    scores = [float(s[0]) for s in field("tokenizer.ggml.scores")]
    # Byte-fallback tokens (<0x0A>, ...) become control tokens: random weights pick them in any order, and a lone byte of
    # a multi-byte character is invalid UTF-8, which llama.cpp before v0.5.0 refused mid-answer. Control tokens
    # still encode a prompt's bytes, and print as nothing.
    types = [CONTROL if int(t[0]) == BYTE else int(t[0]) for t in field("tokenizer.ggml.token_type")]
    bos = int(reader.fields["tokenizer.ggml.bos_token_id"].parts[-1][0])
    eos = int(reader.fields["tokenizer.ggml.eos_token_id"].parts[-1][0])
    return tokens, scores, types, bos, eos


def tensors(shape, vocab):
    """Name and numpy shape (rows, columns) of every tensor, in llama.cpp's names."""
    e, kv = shape["embd"], shape["embd"] // shape["heads"] * shape["kv_heads"]
    yield "token_embd.weight", (vocab, e)
    for i in range(shape["layers"]):
        b = f"blk.{i}."
        yield b + "attn_norm.weight", (e,)
        yield b + "attn_q.weight", (e, e)
        yield b + "attn_k.weight", (kv, e)
        yield b + "attn_v.weight", (kv, e)
        yield b + "attn_output.weight", (e, e)
        yield b + "ffn_norm.weight", (e,)
        yield b + "ffn_gate.weight", (shape["ff"], e)
        yield b + "ffn_up.weight", (shape["ff"], e)
        yield b + "ffn_down.weight", (e, shape["ff"])
    yield "output_norm.weight", (e,)
    if not shape["tied"]:
        yield "output.weight", (vocab, e)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=SHAPES, required=True)
    parser.add_argument("--vocab-from", required=True, help="a GGUF whose tokenizer to copy")
    parser.add_argument("--out", required=True)
    parser.add_argument("--context", type=int, default=8192, help="trained context length to record")
    args = parser.parse_args()

    shape = SHAPES[args.shape]
    tokens, scores, types, bos, eos = vocabulary(args.vocab_from)
    writer = gguf.GGUFWriter(args.out, "llama")
    writer.add_name(shape["name"] + " (random weights)")
    writer.add_context_length(args.context)
    writer.add_embedding_length(shape["embd"])
    writer.add_block_count(shape["layers"])
    writer.add_feed_forward_length(shape["ff"])
    writer.add_head_count(shape["heads"])
    writer.add_head_count_kv(shape["kv_heads"])
    writer.add_rope_dimension_count(shape["embd"] // shape["heads"])
    writer.add_rope_freq_base(500000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(bos)
    writer.add_eos_token_id(eos)

    layout = list(tensors(shape, len(tokens)))
    for name, dims in layout:
        dtype = np.float32 if len(dims) == 1 else np.float16
        writer.add_tensor_info(name, dims, np.dtype(dtype), int(np.prod(dims)) * np.dtype(dtype).itemsize)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(0)
    total = sum(int(np.prod(d)) for _, d in layout)
    written = 0
    for name, dims in layout:
        if len(dims) == 1:
            data = np.ones(dims, dtype=np.float32)
        else:
            data = (rng.standard_normal(dims, dtype=np.float32) * 0.02).astype(np.float16)
        writer.write_tensor_data(data)
        written += data.size
        print(f"\r{name}: {written / total:6.1%} of {total / 1e9:.2f} B parameters", end="", file=sys.stderr, flush=True)
    writer.close()
    print(f"\nwrote {args.out}: {shape['name']}, {total / 1e9:.2f} B parameters, F16", file=sys.stderr)


if __name__ == "__main__":
    main()
