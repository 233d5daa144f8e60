#!/usr/bin/env bash
# What a developer's first minutes cost: the gateway that `dotnet run --project LlmApp.AppHost` starts (its build, the
# Development environment, traces, metrics and logs exported to the dashboard every second, Prometheus scraping it),
# side by side with the gateway as its container runs it (published ReadyToRun, Production, no exporter) and nginx,
# all three fresh and in front of the AppHost's own llama-server, in interleaved rounds of LlmApp.Bench with each
# process's CPU per token read from its CPU clock.
#
#   scripts/bench-dev-gateway.sh                                   (10-stream warm-up, then 40 streams of 256 tokens)
#   scripts/bench-dev-gateway.sh --concurrency 1 --num-prompts 100 --prompt-tokens 16 --output-tokens 1 --no-stream --warmup 10
#                                                                                   (small answers)
#
# Arguments, when given, replace those defaults. Environment: CONFIGURATION the AppHost is built and run with (Debug,
# as the README's `dotnet run` builds it; or Release), MODEL (default: the tests' tiny model). Needs nginx
# (apt-get install nginx). Uses ports 8000 and 15888-20888 (the AppHost's own) and 18090 and 18002 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
configuration=${CONFIGURATION:-Debug}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -f "$model" ] || { echo "bench-dev-gateway: error: MODEL '$model' does not exist" >&2; exit 1; }
[ -x "$nginx" ] || { echo "bench-dev-gateway: error: nginx is not installed (apt-get install nginx)" >&2; exit 1; }
if curl -fs -o /dev/null http://127.0.0.1:8000/healthz 2>/dev/null; then
  echo "bench-dev-gateway: error: something already answers on port 8000 (an AppHost still running?)" >&2; exit 1
fi

work=$(mktemp -d)
pids=()
keep=
apphost=
started='tools/dcp|LlmApp\.Gateway|llama-server|Aspire\.Dashboard|prometheus --config'
before=$(pgrep -f "$started" | tr '\n' ' ' || true)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # The AppHost runs in a session of its own: the whole group (dotnet run, the AppHost, its orchestrator and what it
  # started) is told to stop, and given the time the AppHost takes to stop its resources.
  if [ -n "$apphost" ]; then
    kill -TERM -- "-$apphost" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 -- "-$apphost" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$apphost" 2>/dev/null || true
    # Aspire's orchestrator (dcp) and what it started (the gateway's `dotnet run`) live in sessions of their own: end
    # those this run started.
    left=()
    for pid in $(pgrep -f "$started" || true); do
      case " $before " in *" $pid "*) ;; *) left+=("$pid") ;; esac
    done
    if [ ${#left[@]} -gt 0 ]; then
      kill "${left[@]}" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "${left[@]}" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "${left[@]}" 2>/dev/null || true
    fi
  fi
  wait 2>/dev/null || true
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release "$root/LlmApp.Bench" -v q -nologo >/dev/null
dotnet build -c "$configuration" "$root/LlmApp.AppHost" -v q -nologo >/dev/null
dotnet publish "$root/LlmApp.Gateway" -c Release -o "$work/gateway" -v q -nologo >/dev/null
bench=(dotnet "$root/LlmApp.Bench/bin/Release/net10.0/LlmApp.Bench.dll")
args=("$@")
[ $# -gt 0 ] || args=(--concurrency 1 --num-prompts 40 --output-tokens 256 --warmup 10 --rounds 1)

# The AppHost as the README runs it (its launch profile: the dashboard on 15888, OTLP export to it).
(cd "$root" && exec setsid env Llm__Model="$model" dotnet run --no-build -c "$configuration" --project LlmApp.AppHost) >"$work/apphost.log" 2>&1 &
apphost=$!
for _ in $(seq 240); do curl -fs -o /dev/null http://127.0.0.1:8000/readyz 2>/dev/null && break; sleep 0.5; done
curl -fs -o /dev/null http://127.0.0.1:8000/readyz || { echo "bench-dev-gateway: error: the AppHost's gateway did not become ready; see $work/apphost.log" >&2; keep=1; exit 1; }

# Its gateway and llama-server, by their command lines; the port llama-server listens on and the key it takes, from its environment.
dev=$(pgrep -f 'LlmApp\.Gateway(\.dll)?( |$)' | head -1)
llama=$(pgrep -f 'llama-server .*--alias' | head -1)
[ -n "$dev" ] && [ -n "$llama" ] || { echo "bench-dev-gateway: error: could not find the AppHost's gateway and llama-server processes" >&2; keep=1; exit 1; }
port=$(tr '\0' '\n' <"/proc/$llama/environ" | sed -n 's/^LLAMA_ARG_PORT=//p')
key=$(tr '\0' '\n' <"/proc/$llama/environ" | sed -n 's/^LLAMA_API_KEY=//p')
served=$(curl -fs http://127.0.0.1:8000/v1/models | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')

"$root/scripts/nginx-proxy.sh" "$work/nginx" 127.0.0.1:18090 "127.0.0.1:$port" "$key" &
pids+=($!); nginx_master=$!

(cd "$work/gateway" &&
  exec env Backend__Endpoint="http://127.0.0.1:$port" Backend__Model="$served" Backend__ApiKey="$key" \
    ASPNETCORE_URLS=http://127.0.0.1:18002 dotnet LlmApp.Gateway.dll) >"$work/published.log" 2>&1 &
pids+=($!); published=$!
for _ in $(seq 120); do curl -fs -o /dev/null http://127.0.0.1:18002/readyz 2>/dev/null && break; sleep 0.5; done
curl -fs -o /dev/null http://127.0.0.1:18002/readyz || { echo "bench-dev-gateway: error: the published gateway did not become ready; see $work/published.log" >&2; keep=1; exit 1; }
sleep 1
worker=$(pgrep -P "$nginx_master" | head -1)

"${bench[@]}" --model "$served" \
  --compare "nginx=http://127.0.0.1:18090/v1,published=http://127.0.0.1:18002/v1,dotnet-run=http://127.0.0.1:8000/v1" \
  --pid "nginx=$worker" --pid "published=$published" --pid "dotnet-run=$dev" \
  "${args[@]}"
