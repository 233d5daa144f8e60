#!/bin/sh
# Writes the model server's scrape job into prometheus.yml: its name from LLMAPP_BACKEND_JOB (llama-server or vllm;
# default llama-server) and one target per replica from LLMAPP_BACKEND_TARGETS (host:port,host:port; default
# llm:8080), then starts Prometheus on it. The compose file sets both; Prometheus reads no environment in its configuration.
set -eu
job="${LLMAPP_BACKEND_JOB:-llama-server}"
case "$job" in
  *[!a-z0-9_-]*|"") echo "llmapp-prometheus: error: LLMAPP_BACKEND_JOB '$job' is not a job name (a-z, 0-9, _ and -)." >&2; exit 1 ;;
esac
targets=""
for target in $(echo "${LLMAPP_BACKEND_TARGETS:-llm:8080}" | tr ',' ' '); do
  targets="${targets:+$targets, }'$target'"
done
sed -e "s|__BACKEND_TARGETS__|$targets|" -e "s|__BACKEND_JOB__|$job|" /etc/prometheus/prometheus.yml >/tmp/prometheus.yml
exec /usr/bin/prometheus --config.file=/tmp/prometheus.yml "$@"
