#!/usr/bin/env bash
# Prefix-affine routing against round-robin and least-loaded (docs/performance.md, "Replicas"): two llama-server
# replicas, two slots and one core each, three gateways in front of them, one per Backend:Routing, and LlmApp.Bench's
# multi-turn conversations through each, in interleaved rounds:
#
#   scripts/bench-replicas.sh                  # llama-server's prompt cache in RAM on (512 MiB, the AppHost's default)
#   CACHE_RAM=0 scripts/bench-replicas.sh      # reuse only from what a slot still holds
#
# The workload: 8 conversations of 6 turns, 400-token system prompts, 40 tokens a turn, 32 out, a random pause of up to
# THINK_MS (1000) between a conversation's turns (so that turns do not arrive in lockstep, which would make round-robin
# send every conversation to the same replica each time), in ROUNDS rounds (3); further arguments go to LlmApp.Bench.
# Environment: MODEL (the tests' tiny model, scripts/test-model.sh), CONFIGURATION (Release), CACHE_RAM (512), ROUNDS (3), THINK_MS (1000).
# Ports 18180-18181 (replicas) and 18102-18104 (gateways) on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
configuration=${CONFIGURATION:-Release}
cache_ram=${CACHE_RAM:-512}
[ -f "$model" ] || { echo "bench-replicas: error: MODEL '$model' does not exist" >&2; exit 1; }

work=$(mktemp -d)
pids=()
keep=
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "$keep" ] || rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release "$root/LlmApp.Bench" -v q -nologo >/dev/null
dotnet build -c "$configuration" "$root/LlmApp.Gateway" -v q -nologo >/dev/null

for i in 0 1; do
  "$root/scripts/llama-tool.sh" llama-server --model "$model" --alias bench --host 127.0.0.1 --port $((18180 + i)) \
    --parallel 2 --threads 1 --threads-batch 1 --cache-ram "$cache_ram" --no-jinja --no-ui >"$work/llama-$i.log" 2>&1 &
  pids+=($!)
done

targets=()
port=18102
for routing in Affine RoundRobin LeastLoaded; do
  (cd "$root/LlmApp.Gateway/bin/$configuration/net10.0" &&
    exec env Backend__Model=bench Backend__Routing=$routing \
      Backend__Backends__0__Name=llm-1 Backend__Backends__0__Endpoint=http://127.0.0.1:18180 \
      Backend__Backends__1__Name=llm-2 Backend__Backends__1__Endpoint=http://127.0.0.1:18181 \
      ASPNETCORE_URLS=http://127.0.0.1:$port dotnet LlmApp.Gateway.dll) >"$work/gateway-$routing.log" 2>&1 &
  pids+=($!)
  name=$(echo "$routing" | sed -E 's/([a-z])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')
  targets+=("$name=http://127.0.0.1:$port/v1")
  port=$((port + 1))
done

for url in http://127.0.0.1:18180/health http://127.0.0.1:18181/health http://127.0.0.1:18102/readyz http://127.0.0.1:18103/readyz http://127.0.0.1:18104/readyz; do
  for _ in $(seq 120); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$url" >/dev/null || { echo "bench-replicas: error: $url did not answer; logs in $work" >&2; keep=1; exit 1; }
done

echo "two replicas, 2 slots and 1 thread each, --cache-ram $cache_ram"
dotnet "$root/LlmApp.Bench/bin/Release/net10.0/LlmApp.Bench.dll" --model bench \
  --compare "$(IFS=,; echo "${targets[*]}")" \
  --conversations 8 --turns 6 --system-tokens 400 --turn-tokens 40 --output-tokens 32 --think-ms "${THINK_MS:-1000}" --rounds "${ROUNDS:-3}" "$@"
