#!/usr/bin/env bash
# The memory llama-server takes for a model at the AppHost's settings, native: its resident memory after loading and
# after one request (VmHWM, VmRSS, RssAnon, RssFile from /proc), and llama.cpp's own buffer sizes from its log. What
# Setup/MemoryFit.cs was calibrated against (docs/performance.md, "Memory fit").
#
#   scripts/memory-native.sh MODEL.gguf [extra llama-server arguments]
#   EMBED=1 scripts/memory-native.sh nomic.gguf --embeddings --pooling mean --batch-size 2048 --ubatch-size 2048 --ctx-size 4096
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$1; shift
port=${PORT:-18191}
log=$(mktemp)
# The AppHost's chat settings, unless others are given.
[ $# -gt 0 ] || set -- --parallel 2 --ctx-size 8192 --batch-size 512 --ubatch-size 512 --flash-attn on --cache-ram 512 --no-jinja
"$root/scripts/llama-tool.sh" llama-server --model "$model" --port "$port" --host 127.0.0.1 -lv 4 --threads 2 --threads-batch 2 \
  --no-ui "$@" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
memory() { grep -E "VmHWM|VmRSS|RssAnon|RssFile" "/proc/$pid/status" | tr -s ' ' | paste -sd' '; }
echo "after load:    $(memory)"
text=$(python3 -c "print(' '.join(['hello world'] * 200))")
if [ -n "${EMBED:-}" ]; then
  curl -s "http://127.0.0.1:$port/v1/embeddings" -H 'content-type: application/json' -d "{\"input\":\"$text\"}" >/dev/null
else
  curl -s "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d "{\"messages\":[{\"role\":\"user\",\"content\":\"$text\"}],\"max_tokens\":16}" >/dev/null
fi
echo "after request: $(memory)"
grep -E "buffer size|llama_kv_cache|REPACK" "$log" | head -20
