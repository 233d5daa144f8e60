#!/usr/bin/env bash
# Runs one of the llama.cpp tools built beside the cached llama-server (llama-bench, llama-quantize, llama-server):
#   scripts/llama-tool.sh llama-bench -m MODEL.gguf -t 1,2 -fa 0,1 -p 458 -n 64
# The first run of the tests or of the AppHost builds them. See docs/performance.md.
set -euo pipefail
tool=${1:?usage: scripts/llama-tool.sh llama-bench|llama-quantize|llama-server [arguments]}
shift
cache=${LLMAPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmapp}
# The llama.cpp release the AppHost pins, not whichever older build the cache still holds.
version=$(sed -n 's/.*const string Version = "\(.*\)";.*/\1/p' "$(dirname "$0")/../LlmApp.AppHost/LlamaCpp/LlamaCppSource.cs")
dir=$(ls -d "$cache/llama.cpp/$version"-linux-* "$cache/llama.cpp/$version"-macos-* 2>/dev/null | grep -v '\.new$' | head -1 || true)
if [ -z "$dir" ] || [ ! -x "$dir/$tool" ]; then
  echo "llama-tool: error: no $tool of llama.cpp $version in $cache/llama.cpp; run the tests or the AppHost once to build it" >&2
  exit 1
fi
exec "$dir/$tool" "$@"
