#!/usr/bin/env bash
# Times a start of the service the way the README runs it: from `dotnet run` until the gateway's
# /readyz answers 200 (llama-server healthy, model loaded), then sends one chat completion.
# Usage: scripts/measure-startup.sh [model]   (default: the tests' tiny model, scripts/test-model.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-$(scripts/test-model.sh)}
port=${Llm__GatewayPort:-8000}
log=$(mktemp -t llmapp-startup.XXXXXX.log)

start=$(date +%s.%N)
# In its own session, so that stopping it stops its whole tree (DCP, llama-server, gateway).
Llm__Model="$model" setsid dotnet run --project LlmApp.AppHost >"$log" 2>&1 &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT

until curl -fs "http://localhost:${port}/readyz" >/dev/null 2>&1; do
  if ! kill -0 $pid 2>/dev/null; then echo "the AppHost exited; log: $log"; cat "$log"; exit 1; fi
  sleep 0.2
done
ready=$(date +%s.%N)
printf 'ready after %.1f s (log: %s)\n' "$(echo "$ready - $start" | bc)" "$log"

served=$(curl -fs "http://localhost:${port}/v1/models" | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -fs "http://localhost:${port}/v1/chat/completions" -H 'Content-Type: application/json' \
  -d "{\"model\":\"${served}\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}"
echo
