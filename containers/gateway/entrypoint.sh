#!/bin/sh
# Turns the compose deployment's key variables into the gateway's settings, and only when they are set: an unset
# LLMAPP_API_KEY leaves /v1 open (the gateway warns at start) instead of failing on an empty key, and an unset
# LLMAPP_API_KEYS_FILE mounts /dev/null, which is not a regular file.
set -eu
if [ -n "${LLMAPP_API_KEY:-}" ]; then
  export Auth__Keys__0__Name=default
  export Auth__Keys__0__Key="$LLMAPP_API_KEY"
fi
unset LLMAPP_API_KEY
if [ -f /etc/llmapp/keys.json ]; then
  export Auth__KeysFile=/etc/llmapp/keys.json
fi
# llama-server's key, from the volume the model fetcher wrote it into: sent on every call to the chat and embedding
# servers. $(cat) drops the file's trailing newline.
if [ -n "${LLMAPP_BACKEND_KEY_FILE:-}" ]; then
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
