#!/usr/bin/env bash
# The reference server of the benchmark: nginx serving GET /hello -> "Hello, World!" (13 bytes,
# text/plain) on 127.0.0.1:PORT, one worker, no access log, keep-alive, every file it writes
# (config, pid, temp dirs, error log) inside DIR, so it runs without root and beside a system nginx.
# GET /nginx_status is its stub_status (connections accepted, requests handled).
#
#   Benchmarks/nginx.sh PORT DIR
#
# Execs nginx in the foreground (`daemon off`): the caller's pid is the master, the worker its
# child. The worker's fd limit is the caller's `ulimit -n`. worker_connections is well above
# $STEPWISE_BENCH_IDLE_CONNECTIONS: once fewer than 1/16 of its connections are free, nginx starts
# closing idle keep-alive connections to reuse them, which would spoil the idle-memory
# measurement (10,240 for 10,000 idle is not enough). run.sh starts it for the
# nginx column, and it can stand in for stepwise to check the harness (nginx against itself):
#   STEPWISE_BENCH_SERVER_CMD='Benchmarks/nginx.sh {port} {dir}' Benchmarks/run.sh
#
# For the large-body benchmark (bodies.sh), two more settings from the environment:
#   STEPWISE_NGINX_ROOT      serve the files under this directory at / (unset: no files)
#   STEPWISE_NGINX_SENDFILE  on|off: whether nginx sends those files with sendfile(2) [off, as
#                            nginx's built-in default; Debian's packaged nginx.conf turns it on]
# and POST /discard reads the request body whatever its size and throws it away (nginx's
# "discard body": recv into a 4 KiB buffer, which keeps the connection usable), answering 204.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 PORT DIR" >&2
  exit 2
fi
port=$1
dir=$(cd "$2" && pwd)

nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx" ]; then
  echo "error: nginx not found (apt-get install nginx, or run \`make bench\`)" >&2
  exit 1
fi

idle=${STEPWISE_BENCH_IDLE_CONNECTIONS:-10000}
worker_connections=$((idle + idle / 8 + 512 > 10240 ? idle + idle / 8 + 512 : 10240))
fd_limit=$(ulimit -n)
[ "$fd_limit" = unlimited ] && fd_limit=$((worker_connections + 1024))
sendfile=${STEPWISE_NGINX_SENDFILE:-off}
[[ $sendfile == on || $sendfile == off ]] || { echo "error: STEPWISE_NGINX_SENDFILE must be on or off" >&2; exit 2; }
files=""
if [ -n "${STEPWISE_NGINX_ROOT:-}" ]; then
  files="root $(cd "$STEPWISE_NGINX_ROOT" && pwd);"
fi

cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $fd_limit;
pid $dir/nginx.pid;
error_log $dir/error.log warn;

events {
    worker_connections $worker_connections;
}

http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    sendfile $sendfile;

    server {
        listen 127.0.0.1:$port;
        $files

        location /hello {
            default_type text/plain;
            return 200 "Hello, World!";
        }

        # Connections accepted and requests handled so far (client.sh checks reuse with it).
        location = /nginx_status {
            stub_status;
        }

        # A sink for uploads: 204 at once, and the body read to its end and dropped.
        location = /discard {
            client_max_body_size 0;
            return 204;
        }
    }
}
EOF

exec "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
