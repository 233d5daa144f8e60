#!/bin/sh
# Writes the llama-server job's targets into prometheus.yml, one per replica, from LLMAPP_LLAMA_TARGETS
# (host:port,host:port; default llm:8080), and starts Prometheus on it. The compose file sets the variable for the
# replicas it runs; Prometheus itself reads no environment in its configuration.
set -eu
targets=""
for target in $(echo "${LLMAPP_LLAMA_TARGETS:-llm:8080}" | tr ',' ' '); do
  targets="${targets:+$targets, }'$target'"
done
sed "s|__LLAMA_TARGETS__|$targets|" /etc/prometheus/prometheus.yml >/tmp/prometheus.yml
exec /usr/bin/prometheus --config.file=/tmp/prometheus.yml "$@"
