#!/usr/bin/env bash
# The service sweeps of docs/performance.md: starts llama-server once per set of arguments, runs LlmApp.Bench against
# it, and prints one summary line per set.
#
#   scripts/serve-sweep.sh MODEL.gguf "--parallel 1" "--parallel 2" -- --concurrency 1 --prompt-tokens 458 --output-tokens 32
#
# Every set starts from the AppHost's defaults for the 2-core box (below); the set's arguments come after them, and
# llama-server takes the last value given. Port 18080 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:?usage: scripts/serve-sweep.sh MODEL.gguf "ARGS" ["ARGS"...] -- BENCH-ARGS}
shift
[ -f "$model" ] || { echo "serve-sweep: error: model '$model' does not exist" >&2; exit 1; }
sets=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do sets+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#sets[@]} -gt 0 ] || sets=("")

dotnet build -c Release "$root/LlmApp.Bench" -v q -nologo >/dev/null
# The AppHost's defaults (LlmApp.AppHost/Hosting/LlamaCppBuilderExtensions.cs), as llama-server arguments.
defaults=(--alias sweep --host 127.0.0.1 --port 18080 --threads "$(nproc)" --threads-batch "$(nproc)" --flash-attn on
  --batch-size 512 --ubatch-size 512 --parallel 2 --ctx-size 8192 --cache-ram 512 --cont-batching --no-jinja --no-ui)
for set in "${sets[@]}"; do
  log=$(mktemp)
  # shellcheck disable=SC2086 # each set is a list of arguments
  "$root/scripts/llama-tool.sh" llama-server --model "$model" "${defaults[@]}" $set >"$log" 2>&1 &
  server=$!
  for _ in $(seq 600); do curl -fs http://127.0.0.1:18080/health >/dev/null 2>&1 && break; sleep 0.5; done
  echo "### llama-server ${set:-(defaults)}; resident $(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status") MB after load"
  dotnet "$root/LlmApp.Bench/bin/Release/net10.0/LlmApp.Bench.dll" --base-url http://127.0.0.1:18080/v1 --model sweep \
    --pid "$server" "$@" || echo "serve-sweep: the run with '${set}' failed; llama-server's log: $log"
  kill "$server"; wait "$server" 2>/dev/null || true
done
