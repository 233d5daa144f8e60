#!/usr/bin/env bash
# The SLO-admission table of docs/performance.md: open-loop load (Poisson arrivals) at multiples of the backend's
# capacity, sent to llama-server direct (its queue unbounded), to the gateway without objectives (its bounded queue)
# and to the gateway with them (Slo:TimeToFirstToken, and with MIN_TPS Slo:MinTokensPerSecond), in interleaved rounds
# of LlmApp.Bench, goodput counted against the same objectives.
#
#   scripts/bench-slo.sh                     # the tests' tiny model, objectives scaled to it
#   MODEL=~/.cache/llmapp/models/synthetic/llama-1b-shaped-q4_k_m.gguf TTFT_MS=1500 TPOT_MS=100 \
#     PROMPT_TOKENS=32 OUTPUT_TOKENS=32 scripts/bench-slo.sh
#
# Environment: MODEL (default: the tests' tiny model), SLOTS (2), THREADS (1: the other core relays and measures),
# TTFT_MS (100) and TPOT_MS (10): the objectives; MIN_TPS (unset): the gateway's decode-rate floor; PROMPT_TOKENS (32),
# OUTPUT_TOKENS (128), NUM_PROMPTS (100 a run), ROUNDS (1), LOADS (0.5,1,1.5,3: multiples of the capacity), CAPACITY
# (requests a second; measured when unset: a closed loop of SLOTS clients straight to llama-server), BENCH_JSON,
# BENCH_PNG. Further arguments go to LlmApp.Bench. Ports 18080, 18002 and 18003 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
slots=${SLOTS:-2}
threads=${THREADS:-1}
ttft=${TTFT_MS:-100}
tpot=${TPOT_MS:-10}
prompt=${PROMPT_TOKENS:-32}
output=${OUTPUT_TOKENS:-128}
prompts=${NUM_PROMPTS:-100}
rounds=${ROUNDS:-1}
loads=${LOADS:-0.5,1,1.5,3}
[ -f "$model" ] || { echo "bench-slo: error: MODEL '$model' does not exist" >&2; exit 1; }

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
bench=(dotnet "$root/LlmApp.Bench/bin/Release/net10.0/LlmApp.Bench.dll")

"$root/scripts/llama-tool.sh" llama-server --model "$model" --alias bench --host 127.0.0.1 --port 18080 \
  --parallel "$slots" --threads "$threads" --threads-batch "$threads" --no-jinja --no-ui >"$work/llama.log" 2>&1 &
pids+=($!); direct=$!
start_gateway() { # port, log name, settings...
  local port=$1 name=$2
  shift 2
  (cd "$work/gateway" &&
    exec env Backend__Endpoint=http://127.0.0.1:18080 Backend__Model=bench ASPNETCORE_URLS="http://127.0.0.1:$port" "$@" \
      dotnet LlmApp.Gateway.dll) >"$work/$name.log" 2>&1 &
  pids+=($!)
}
start_gateway 18002 gateway
gateway=$!
objectives=(Slo__TimeToFirstToken="$(python3 -c 'import sys; print(f"00:00:{float(sys.argv[1]) / 1000:06.3f}")' "$ttft")")
[ -z "${MIN_TPS:-}" ] || objectives+=(Slo__MinTokensPerSecond="$MIN_TPS")
start_gateway 18003 gateway-slo "${objectives[@]}"
slo=$!
for url in http://127.0.0.1:18080/health http://127.0.0.1:18002/readyz http://127.0.0.1:18003/readyz; do
  for _ in $(seq 240); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$url" >/dev/null || { echo "bench-slo: error: $url did not answer; logs in $work" >&2; trap - EXIT; exit 1; }
done

status=0
shape=(--model bench --prompt-tokens "$prompt" --output-tokens "$output" --ignore-eos)
capacity=${CAPACITY:-}
if [ -z "$capacity" ]; then
  # As many clients as slots, each sending the next as soon as its last is answered: the most the backend serves.
  "${bench[@]}" --base-url http://127.0.0.1:18080/v1 "${shape[@]}" --concurrency "$slots" --num-prompts $((slots * 10)) --warmup "$slots" \
    --json "$work/capacity.json" >"$work/capacity.log"
  capacity=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["request_throughput"])' "$work/capacity.json")
fi
rates=$(python3 -c 'import sys; c=float(sys.argv[1]); print(",".join(f"{c*float(m):.3f}" for m in sys.argv[2].split(",")))' "$capacity" "$loads")
echo "capacity: $capacity req/s (${CAPACITY:+given}${CAPACITY:-a closed loop of $slots clients straight to llama-server}); rates: $rates req/s ($loads x)"
echo "objectives: TTFT <= $ttft ms (gateway-slo's Slo:TimeToFirstToken${MIN_TPS:+, Slo:MinTokensPerSecond $MIN_TPS}), TPOT <= $tpot ms"

"${bench[@]}" "${shape[@]}" \
  --compare "direct=http://127.0.0.1:18080/v1,gateway=http://127.0.0.1:18002/v1,gateway-slo=http://127.0.0.1:18003/v1" \
  --pid "direct=$direct" --pid "gateway=$gateway" --pid "gateway-slo=$slo" \
  --request-rate "$rates" --num-prompts "$prompts" --rounds "$rounds" --warmup 4 --goodput "ttft:$ttft" "tpot:$tpot" \
  ${BENCH_JSON:+--json "$BENCH_JSON"} ${BENCH_PNG:+--png "$BENCH_PNG"} "$@" || status=$?
curl -fs http://127.0.0.1:18003/metrics | grep -E '^llmapp_(ttft_prediction_ratio_(bucket|count)|backend_(prefill|decode)_rate|requests_rejected)' || true
exit $status
