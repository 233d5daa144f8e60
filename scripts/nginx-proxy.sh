#!/usr/bin/env bash
# nginx in the foreground as the benches' reference proxy: one worker, no access log, streaming (no buffering), and a
# connection to the upstream per request (llama-server closes one after every stream, and nginx does not resend a POST
# on a connection it closed), as the gateway does for streams.
#
#   scripts/nginx-proxy.sh DIR LISTEN UPSTREAM [KEY]     e.g. scripts/nginx-proxy.sh /tmp/x 127.0.0.1:18090 127.0.0.1:18080
#
# DIR holds its configuration and logs; KEY, when given, is sent upstream as Authorization: Bearer (llama-server's key).
set -euo pipefail
[ $# -ge 3 ] || { echo "nginx-proxy: usage: nginx-proxy.sh DIR LISTEN UPSTREAM [KEY]" >&2; exit 2; }
dir=$1 listen=$2 upstream=$3 key=${4:-}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx-proxy: error: nginx is not installed (apt-get install nginx)" >&2; exit 1; }
mkdir -p "$dir/logs"
authorization=
[ -z "$key" ] || authorization="proxy_set_header Authorization \"Bearer $key\";"
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen $listen;
    location / {
      proxy_pass http://$upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection close;
      $authorization
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
CONF
exec "$nginx" -p "$dir" -c "$dir/nginx.conf"
