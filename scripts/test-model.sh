#!/usr/bin/env bash
# Prints the path of the tests' model, found as the tests find it (README, "Run the tests"): LLMAPP_TEST_MODEL; else
# ../shared/models/llama-2-tiny-random.gguf beside the repository; else the catalog's llama-2-tiny-random in the model
# cache, fetched there once by llmapp-model (the AppHost's downloader: resumable, sha256-checked) when it is not.
# The other scripts take it as their default model. Environment: LLMAPP_TEST_MODEL, Llm__CacheDirectory,
# Llm__HuggingFaceEndpoint (as for dotnet run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -n "${LLMAPP_TEST_MODEL:-}" ]; then
  [ -f "$LLMAPP_TEST_MODEL" ] || { echo "test-model: error: LLMAPP_TEST_MODEL points at '$LLMAPP_TEST_MODEL', which does not exist" >&2; exit 1; }
  echo "$LLMAPP_TEST_MODEL"
  exit 0
fi

shared="$root/../shared/models/llama-2-tiny-random.gguf"
if [ -f "$shared" ]; then
  (cd "$(dirname "$shared")" && echo "$PWD/$(basename "$shared")")
  exit 0
fi

if [ -n "${Llm__CacheDirectory:-}" ]; then
  cache=$Llm__CacheDirectory
elif [ "$(uname)" = Darwin ]; then
  cache=$HOME/Library/Caches/llmapp
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/llmapp
fi
models="$cache/models"
file="$models/aladar/llama-2-tiny-random-GGUF/llama-2-tiny-random.gguf"
if [ ! -f "$file.sha256" ]; then
  endpoint=()
  [ -z "${Llm__HuggingFaceEndpoint:-}" ] || endpoint=(--endpoint "$Llm__HuggingFaceEndpoint")
  # The link is llmapp-model's way of saying which file it settled on; here it is only a by-product beside the cache.
  dotnet run --project "$root/LlmApp.ModelTool" -- --model llama-2-tiny-random --models-dir "$models" \
    --link "$models/llama-2-tiny-random.gguf" "${endpoint[@]}" >&2 || {
    echo "test-model: error: no test model: LLMAPP_TEST_MODEL is not set, $shared does not exist, and the catalog's llama-2-tiny-random could not be fetched into $models (above)" >&2
    exit 1
  }
fi
echo "$file"
