#!/usr/bin/env bash
# Makes a random-weight Q4_K_M GGUF of a real model's shape (1b, 3b or 8b) for timing, in the user's cache:
#   scripts/synthetic-model.sh 8b        ->  ~/.cache/llmapp/models/synthetic/llama-8b-shaped-q4_k_m.gguf
# Uses the tools the first run built beside llama-server (llama-quantize, gguf-py) and Debian's python3-numpy.
# The F16 intermediate (14.5 GB for 8b) is deleted once quantized. See docs/performance.md.
set -euo pipefail
shape=${1:?usage: scripts/synthetic-model.sh 1b|3b|8b [quantization]}
quant=${2:-Q4_K_M}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LLMAPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmapp}
# The llama.cpp release the AppHost pins, not whichever older build the cache still holds.
version=$(sed -n 's/.*const string Version = "\(.*\)";.*/\1/p' "$root/LlmApp.AppHost/LlamaCpp/LlamaCppSource.cs")
tools=$(ls -d "$cache/llama.cpp/$version"-linux-* "$cache/llama.cpp/$version"-macos-* 2>/dev/null | grep -v "\.new$" | head -1 || true)
if [ -z "$tools" ] || [ ! -x "$tools/llama-quantize" ] || [ ! -d "$tools/gguf-py" ]; then
  echo "synthetic-model: error: no llama.cpp $version tools in $cache/llama.cpp; run the tests or the AppHost once to build them" >&2
  exit 1
fi
# Debian's Python, where Debian's numpy goes (a pyenv or venv python3 earlier on PATH would not see it).
python=/usr/bin/python3
if ! "$python" -c 'import numpy' 2>/dev/null; then
  echo "synthetic-model: installing python3-numpy"
  apt-get install -y -qq python3-numpy >/dev/null
fi
out="$cache/models/synthetic"
mkdir -p "$out"
f16="$out/llama-$shape-shaped-f16.gguf"
final="$out/llama-$shape-shaped-$(echo "$quant" | tr '[:upper:]' '[:lower:]').gguf"
if [ -f "$final" ]; then
  echo "$final"
  exit 0
fi
PYTHONPATH="$tools/gguf-py" "$python" "$root/scripts/synthetic-gguf.py" --shape "$shape" \
  --vocab-from "$("$root/scripts/test-model.sh")" --out "$f16"
"$tools/llama-quantize" "$f16" "$final" "$quant" >"$out/quantize-$shape.log" 2>&1 || {
  echo "synthetic-model: error: llama-quantize failed; see $out/quantize-$shape.log" >&2
  exit 1
}
rm -f "$f16"
echo "$final"
