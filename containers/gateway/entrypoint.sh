#!/bin/sh
# Turns the compose deployment's key variables into the gateway's Auth settings, and only when they are set: an unset
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
exec /app/LlmApp.Gateway "$@"
