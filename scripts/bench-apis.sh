#!/usr/bin/env bash
# The gateway's CPU per streamed token on its three chat APIs side by side: /v1/chat/completions, /v1/responses and
# /v1/messages, the same requests to the same published gateway and llama-server, in interleaved rounds
# (scripts/bench-apis.py says how it measures).
#   scripts/bench-apis.sh
# Environment: MODEL (the tests' tiny model), NUM_PROMPTS (40 a batch), CONCURRENCY (4), OUTPUT_TOKENS (256), ROUNDS (3).
# Ports 18080 and 18002 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
[ -f "$model" ] || { echo "bench-apis: error: MODEL '$model' does not exist" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
dotnet publish "$root/LlmApp.Gateway" -c Release -o "$work/gateway" -v q -nologo >/dev/null
"$root/scripts/llama-tool.sh" llama-server --model "$model" --alias bench --host 127.0.0.1 --port 18080 \
  --parallel 4 --threads 1 --threads-batch 1 --no-jinja --no-ui >"$work/llama.log" 2>&1 &
pids+=($!)
(cd "$work/gateway" && exec env Backend__Endpoint=http://127.0.0.1:18080 Backend__Model=bench Resilience__QueueLimit=64 \
  ASPNETCORE_URLS=http://127.0.0.1:18002 dotnet LlmApp.Gateway.dll) >"$work/gateway.log" 2>&1 &
pids+=($!); gateway=$!
for url in http://127.0.0.1:18080/health http://127.0.0.1:18002/readyz; do
  for _ in $(seq 120); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
done
curl -fs http://127.0.0.1:18002/readyz >/dev/null || { echo "bench-apis: error: the gateway did not become ready; see $work/gateway.log" >&2; exit 1; }
python3 "$root/scripts/bench-apis.py" 18002 "$gateway"
