#!/usr/bin/env bash
# The outside check of resumed answers: NUM_STREAMS (60) streams through the published gateway to two llama-servers,
# the serving one killed by its process id at a random moment of each and started again; every cut answer compared with
# an uninterrupted run (scripts/resume-check.py says how). Exits 1 if a cut answer was ever reported as complete.
#   scripts/resume-check.sh                 # the tests' tiny model
# Environment: MODEL, NUM_STREAMS (60), OUTPUT_TOKENS (1000), SEED (1: the kill moments). Ports 18200-18202 on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$("$root/scripts/test-model.sh")}
[ -f "$model" ] || { echo "resume-check: error: MODEL '$model' does not exist" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet publish "$root/LlmApp.Gateway" -c Release -o "$work" -v q -nologo >/dev/null
python3 "$root/scripts/resume-check.py" "$root" "$work" "$model"
