#!/bin/sh
# Turns the compose deployment's variables into the gateway's settings, and stops with one line where they cannot
# work: an unset LLMAPP_API_KEY leaves the key out (the gateway itself then refuses to start open on a network
# address); a keys directory without keys.json in it (Docker makes an empty directory where a path does not exist)
# stops the start instead of being skipped; a TLS directory needs both cert.pem and key.pem.
set -eu
if [ -n "${LLMAPP_API_KEY:-}" ]; then
  export Auth__Keys__0__Name=default
  export Auth__Keys__0__Key="$LLMAPP_API_KEY"
fi
unset LLMAPP_API_KEY
if [ -n "${LLMAPP_API_KEYS_DIR:-}" ]; then
  if [ ! -f /etc/llmapp/keys/keys.json ]; then
    echo "llmapp-gateway: error: LLMAPP_API_KEYS_DIR '$LLMAPP_API_KEYS_DIR' has no keys.json (a path that does not exist on the host is mounted as an empty directory): check the path." >&2
    exit 1
  fi
  export Auth__KeysFile=/etc/llmapp/keys/keys.json
fi
if [ -n "${LLMAPP_TLS_DIR:-}" ]; then
  for pem in cert.pem key.pem; do
    if [ ! -f "/etc/llmapp/tls/$pem" ]; then
      echo "llmapp-gateway: error: LLMAPP_TLS_DIR '$LLMAPP_TLS_DIR' has no $pem (a path that does not exist on the host is mounted as an empty directory): check the path." >&2
      exit 1
    fi
  done
  # HTTPS on the API's port, from the PEM pair; the management port (/metrics, health) stays plain HTTP on the backend network.
  export HTTPS_PORTS=8080 HTTP_PORTS=9464 ASPNETCORE_HTTPS_PORTS=8080 ASPNETCORE_HTTP_PORTS=9464
  export Kestrel__Certificates__Default__Path=/etc/llmapp/tls/cert.pem Kestrel__Certificates__Default__KeyPath=/etc/llmapp/tls/key.pem
fi
unset LLMAPP_API_KEYS_DIR LLMAPP_TLS_DIR
# llama-server's key, from the volume the model fetcher wrote it into: sent on every call to the chat and embedding
# servers. $(cat) drops the file's trailing newline. Not for --check, which runs before the key is made.
if [ -n "${LLMAPP_BACKEND_KEY_FILE:-}" ] && [ "${1:-}" != --check ]; then
  if [ ! -s "$LLMAPP_BACKEND_KEY_FILE" ]; then
    echo "llmapp-gateway: error: llama-server's key $LLMAPP_BACKEND_KEY_FILE is missing or empty; the llm-model service makes it (docker compose up runs it first)." >&2
    exit 1
  fi
  backend_key=$(cat "$LLMAPP_BACKEND_KEY_FILE")
  export Backend__ApiKey="$backend_key" Embeddings__ApiKey="$backend_key"
  unset backend_key
fi
unset LLMAPP_BACKEND_KEY_FILE
exec /app/LlmApp.Gateway "$@"
