#!/usr/bin/env bash
# The gateway's three chat APIs side by side: /v1/chat/completions, /v1/responses and /v1/messages, the same requests
# (in each API's shape) to one published gateway in front of one llama-server, in interleaved rounds of LlmApp.Bench,
# with the gateway's CPU per output token read from /proc for each API's runs. llama-server direct runs beside them for
# its time to first token with DIRECT=1.
#
#   scripts/bench-apis.sh --concurrency 1,4 --num-prompts 40 --output-tokens 256 --rounds 3 --warmup 40
#   scripts/bench-apis.sh --concurrency 2 --num-prompts 200 --prompt-tokens 16 --output-tokens 1 --no-stream
#
# Arguments go to LlmApp.Bench as they are. Environment: MODEL (default: the tests' tiny model, scripts/test-model.sh),
# SLOTS (4), DIRECT=1 to add llama-server direct, BENCH_JSON to also keep the results. Ports 18080 and 18002 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
slots=${SLOTS:-4}
[ -f "$model" ] || { echo "bench-apis: error: MODEL '$model' does not exist" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release "$root/LlmApp.Bench" -v q -nologo >/dev/null
dotnet publish "$root/LlmApp.Gateway" -c Release -o "$work/gateway" -v q -nologo >/dev/null
# One thread for the model leaves the other core to the gateway, as in scripts/bench-gateway.sh.
"$root/scripts/llama-tool.sh" llama-server --model "$model" --alias bench --host 127.0.0.1 --port 18080 \
  --parallel "$slots" --threads 1 --threads-batch 1 --cache-ram 0 --no-jinja --no-ui >"$work/llama.log" 2>&1 &
pids+=($!); direct=$!
(cd "$work/gateway" && exec env Backend__Endpoint=http://127.0.0.1:18080 Backend__Model=bench Resilience__QueueLimit=64 \
  ASPNETCORE_URLS=http://127.0.0.1:18002 dotnet LlmApp.Gateway.dll) >"$work/gateway.log" 2>&1 &
pids+=($!); gateway=$!
for url in http://127.0.0.1:18080/health http://127.0.0.1:18002/readyz; do
  for _ in $(seq 120); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
done
curl -fs http://127.0.0.1:18002/readyz >/dev/null || { echo "bench-apis: error: the gateway did not become ready; see $work/gateway.log" >&2; exit 1; }

g=http://127.0.0.1:18002/v1
dotnet "$root/LlmApp.Bench/bin/Release/net10.0/LlmApp.Bench.dll" --model bench \
  --compare "chat=$g,responses=$g,messages=$g${DIRECT:+,direct=http://127.0.0.1:18080/v1}" \
  --api responses=responses --api messages=messages \
  --pid "chat=$gateway" --pid "responses=$gateway" --pid "messages=$gateway" ${DIRECT:+--pid "direct=$direct"} \
  ${BENCH_JSON:+--json "$BENCH_JSON"} "$@"
