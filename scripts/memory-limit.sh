#!/usr/bin/env bash
# Whether a model runs at full speed under a memory limit: llama-server's image (containers/llama-cpp) with the AppHost's
# settings in a container limited to MEMORY (no swap), three requests, their tok/s and the container's memory. Below
# what it needs, llama-server is killed while loading or generation collapses to about 1 tok/s, re-reading evicted
# weights from disk (docs/performance.md, "Memory fit").
#
#   scripts/memory-limit.sh MODEL.gguf 1200m [extra llama-server arguments]
set -euo pipefail
model=$1; memory=$2; shift 2
name=llmapp-memory-limit-$$
port=${PORT:-18192}
docker run -d --name "$name" --memory "$memory" --memory-swap "$memory" -p "127.0.0.1:$port:8080" \
  -v "$(cd "$(dirname "$model")" && pwd)":/models:ro llmapp-llama-cpp:v0.5.0 \
  --model "/models/$(basename "$model")" --threads 2 --parallel 2 --ctx-size 8192 --batch-size 512 --ubatch-size 512 \
  --flash-attn on --cache-type-k f16 --cache-type-v f16 --cache-ram 512 --no-jinja --no-ui "$@" >/dev/null
trap 'docker rm -f "$name" >/dev/null' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || break
  sleep 1
done
echo "$(docker inspect -f 'running={{.State.Running}} oom-killed={{.State.OOMKilled}}' "$name")"
[ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || exit 1
for request in 1 2 3; do
  speed=$(curl -s -m 300 "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"messages":[{"role":"user","content":"hello there, how are you"}],"max_tokens":16}' \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["timings"]["predicted_per_second"], 1) if "timings" in d else d.get("error"))')
  echo "request $request: $speed tok/s; memory $(docker stats --no-stream --format '{{.MemUsage}}' "$name")"
done
