#!/usr/bin/env bash
# The gateway-overhead table of docs/performance.md: llama-server direct, nginx, .NET's two floors (a bare TCP relay and a
# Kestrel+HttpClient passthrough) and the gateway, side by side in interleaved rounds of LlmApp.Bench, with the CPU
# each process spent per token and per request read from /proc.
#
#   scripts/bench-gateway.sh --concurrency 1,4,16 --num-prompts 40 --output-tokens 256 --rounds 5 --warmup 40
#   scripts/bench-gateway.sh --concurrency 2 --num-prompts 400 --prompt-tokens 16 --output-tokens 1 --no-stream
#
# Arguments go to LlmApp.Bench as they are. Environment: MODEL (default: the tests' tiny model, scripts/test-model.sh), CONFIGURATION of the
# gateway (Release by default: published ReadyToRun, as its container ships it; Debug for the figures of `dotnet run`),
# SLOTS (4) and QUEUE (64), so that nothing is refused at concurrency 16 (the gateway and nginx alike),
# BENCH_JSON/BENCH_PNG to also keep the results, and KEYED=1 to add a second gateway, "gateway-keyed", with an API key
# and per-key limits on (all of them, set high enough that none refuses): what keys and limits cost, beside the open
# gateway in the same run; BASELINE=<commit> to add "baseline", the gateway as it was at that commit, published the
# same way: a change's before and after in one run (BASELINE=b6bcd18 scripts/bench-gateway.sh --concurrency 1,4 ...).
# GATEWAY_ENV="Name=value ..." adds settings to the gateway (not to the baseline): GATEWAY_ENV=Resilience__ResumeCutAnswers=true
# puts the resume buffer on its per-token path, which one backend otherwise leaves off. APIS=1 adds "responses" and
# "messages": the same gateway asked through OpenAI's Responses API and Anthropic's Messages API (LlmApp.Bench --api),
# its CPU counted for each API's runs apart.
# Needs nginx (Debian: apt-get install nginx). Ports 18080-18096 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
configuration=${CONFIGURATION:-Release}
slots=${SLOTS:-4}
queue=${QUEUE:-64}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -f "$model" ] || { echo "bench-gateway: error: MODEL '$model' does not exist" >&2; exit 1; }
[ -x "$nginx" ] || { echo "bench-gateway: error: nginx is not installed (apt-get install nginx)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
keep=
worktree=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$worktree" ] || git -C "$root" worktree remove --force "$worktree" >/dev/null 2>&1 || true
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release "$root/LlmApp.Bench" -v q -nologo >/dev/null
# Release is the gateway as its container ships it: published, ReadyToRun. Debug is what `dotnet run` of the AppHost starts.
if [ "$configuration" = Release ]; then
  gateway_dir="$work/gateway"
  dotnet publish "$root/LlmApp.Gateway" -c Release -o "$gateway_dir" -v q -nologo >/dev/null
else
  gateway_dir="$root/LlmApp.Gateway/bin/$configuration/net10.0"
  dotnet build -c "$configuration" "$root/LlmApp.Gateway" -v q -nologo >/dev/null
fi
bench=(dotnet "$root/LlmApp.Bench/bin/Release/net10.0/LlmApp.Bench.dll")

# One thread for the model leaves the other core to whatever relays its tokens: that is the contest being measured.
"$root/scripts/llama-tool.sh" llama-server --model "$model" --alias bench --host 127.0.0.1 --port 18080 \
  --parallel "$slots" --threads 1 --threads-batch 1 --cache-ram 0 --no-jinja --no-ui >"$work/llama.log" 2>&1 &
pids+=($!); direct=$!

"$root/scripts/nginx-proxy.sh" "$work/nginx" 127.0.0.1:18090 127.0.0.1:18080 &
pids+=($!); nginx_master=$!

"${bench[@]}" relay --listen 127.0.0.1:18095 --upstream 127.0.0.1:18080 >"$work/relay.log" 2>&1 &
pids+=($!); relay=$!
"${bench[@]}" passthrough --listen http://127.0.0.1:18096 --upstream http://127.0.0.1:18080 >"$work/passthrough.log" 2>&1 &
pids+=($!); passthrough=$!
read -ra gateway_env <<<"${GATEWAY_ENV:-}"
(cd "$gateway_dir" &&
  exec env Backend__Endpoint=http://127.0.0.1:18080 Backend__Model=bench Resilience__QueueLimit="$queue" \
    ASPNETCORE_URLS=http://127.0.0.1:18002 "${gateway_env[@]}" dotnet LlmApp.Gateway.dll) >"$work/gateway.log" 2>&1 &
pids+=($!); gateway=$!
targets="direct=http://127.0.0.1:18080/v1,nginx=http://127.0.0.1:18090/v1,relay=http://127.0.0.1:18095/v1,passthrough=http://127.0.0.1:18096/v1,gateway=http://127.0.0.1:18002/v1"
keyed_args=()
if [ "${KEYED:-0}" = 1 ]; then
  key=sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  (cd "$gateway_dir" &&
    exec env Backend__Endpoint=http://127.0.0.1:18080 Backend__Model=bench Resilience__QueueLimit="$queue" \
      Auth__Keys__0__Name=bench Auth__Keys__0__Key="$key" Auth__Keys__0__RequestsPerMinute=1000000 \
      Auth__Keys__0__TokensPerMinute=1000000000 Auth__Keys__0__MaxConcurrent=1000 \
      ASPNETCORE_URLS=http://127.0.0.1:18003 dotnet LlmApp.Gateway.dll) >"$work/gateway-keyed.log" 2>&1 &
  pids+=($!); keyed=$!
  targets="$targets,gateway-keyed=http://127.0.0.1:18003/v1"
  keyed_args=(--pid "gateway-keyed=$keyed" --api-key "$key")
fi

api_args=()
if [ "${APIS:-0}" = 1 ]; then
  targets="$targets,responses=http://127.0.0.1:18002/v1,messages=http://127.0.0.1:18002/v1"
  api_args=(--api responses=responses --api messages=messages --pid "responses=$gateway" --pid "messages=$gateway")
fi

baseline_args=()
if [ -n "${BASELINE:-}" ]; then
  # The gateway as it was at another commit, published the same way, beside this one: a change's before and after.
  git -C "$root" worktree add --detach "$work/baseline-src" "$BASELINE" >/dev/null 2>&1 ||
    { echo "bench-gateway: error: BASELINE '$BASELINE' is not a commit of this repository" >&2; exit 1; }
  worktree="$work/baseline-src"
  dotnet publish "$worktree/LlmApp.Gateway" -c Release -o "$work/baseline" -v q -nologo >/dev/null
  (cd "$work/baseline" &&
    exec env Backend__Endpoint=http://127.0.0.1:18080 Backend__Model=bench Resilience__QueueLimit="$queue" \
      ASPNETCORE_URLS=http://127.0.0.1:18004 dotnet LlmApp.Gateway.dll) >"$work/gateway-baseline.log" 2>&1 &
  pids+=($!); baseline=$!
  targets="$targets,baseline=http://127.0.0.1:18004/v1"
  baseline_args=(--pid "baseline=$baseline")
fi

for url in http://127.0.0.1:18080/health http://127.0.0.1:18002/readyz ${keyed:+http://127.0.0.1:18003/readyz} ${baseline:+http://127.0.0.1:18004/readyz}; do
  for _ in $(seq 120); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
done
curl -fs http://127.0.0.1:18002/readyz >/dev/null || { echo "bench-gateway: error: the gateway did not become ready; see $work/gateway.log" >&2; keep=1; exit 1; }
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "bench-gateway: error: a process it started has exited (a port in 18080-18096 taken?); logs in $work" >&2; keep=1; exit 1; }
done
worker=$(pgrep -P "$nginx_master" | head -1)

status=0
"${bench[@]}" --model bench \
  --compare "$targets" \
  --pid "direct=$direct" --pid "nginx=$worker" --pid "relay=$relay" --pid "passthrough=$passthrough" --pid "gateway=$gateway" "${keyed_args[@]}" \
  "${api_args[@]}" "${baseline_args[@]}" \
  ${BENCH_JSON:+--json "$BENCH_JSON"} ${BENCH_PNG:+--png "$BENCH_PNG"} "$@" || status=$?
echo "gateway ($configuration) resident memory high-water mark: $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$gateway/status") MB"
exit $status
