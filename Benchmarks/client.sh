#!/usr/bin/env bash
# Client benchmark: the Stepwise HTTP/1 client against nginx, beside wrk and curl doing the same
# work: GET /hello ("Hello, World!") over one keep-alive connection, one request at a time.
# `make bench` runs it after run.sh; see Benchmarks/README.md for what is measured.
#
# nginx (nginx.sh) runs pinned to one core (taskset); each client in turn runs pinned to the other:
#   stepwise fetch        stepwise-client-bench --mode fetch: a Request per GET, Request.fetch
#                         through a ConnectionPool, blocking (Reactor.run per call)
#   stepwise fetch-async  --mode fetch-async: the same awaited in one task
#   stepwise connection   --mode connection: HTTPConnection request + getResponse, blocking
#   wrk                   wrk -t1 -c1 -d DURATION (one connection, keep-alive)
#   curl                  one curl process fetching 'URL?[1-N]' (URL globbing: one connection)
# For each: wall time (bash's EPOCHREALTIME around the process) and the client's CPU time
# (utime+stime of all its threads, from this shell's cutime+cstime once it is reaped); nginx's
# stub_status before and after counts the connections and requests nginx saw, so a client that
# did not keep its connection is caught. Prints a table and writes
# Benchmarks/results/client-latest.txt.
#
# Environment (defaults in brackets):
#   STEPWISE_BENCH_CLIENT_REQUESTS   requests for each stepwise mode and for curl [50000]
#   STEPWISE_BENCH_CLIENT_DURATION   wrk's duration [5s]
#   STEPWISE_BENCH_CLIENT_WARMUP     a wrk -t1 -c1 warm-up of nginx first, 0 for none [1s]
#   STEPWISE_BENCH_CLIENT_MODES      the stepwise modes to run [fetch fetch-async connection]
#   STEPWISE_BENCH_CLIENT_BINARY     the load program [.build/release/stepwise-client-bench]
#   STEPWISE_BENCH_SERVER_CPU        core for nginx [0]
#   STEPWISE_BENCH_CLIENT_CPU        core for the clients [1]
#   STEPWISE_BENCH_RESULTS           directory for the result files [Benchmarks/results]
#   PYTHON                           Python 3 interpreter (port choice, probe) [python3]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

requests=${STEPWISE_BENCH_CLIENT_REQUESTS:-50000}
duration=${STEPWISE_BENCH_CLIENT_DURATION:-5s}
warmup=${STEPWISE_BENCH_CLIENT_WARMUP:-1s}
modes=${STEPWISE_BENCH_CLIENT_MODES:-fetch fetch-async connection}
binary=${STEPWISE_BENCH_CLIENT_BINARY:-$root/.build/release/stepwise-client-bench}
server_cpu=${STEPWISE_BENCH_SERVER_CPU:-0}
client_cpu=${STEPWISE_BENCH_CLIENT_CPU:-1}
results_dir=${STEPWISE_BENCH_RESULTS:-$here/results}
python=${PYTHON:-python3}
start_timeout=15 # seconds for nginx to answer /hello
export STEPWISE_BENCH_IDLE_CONNECTIONS=0 # nginx.sh: no idle-connection test here

# shellcheck source=Benchmarks/harness.sh
source "$here/harness.sh"

# ---- Preconditions -------------------------------------------------------------------------------
for tool in wrk nginx curl taskset getconf "$python"; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] \
    || die "$tool not found (\`make bench\` installs nginx, wrk and curl; taskset is util-linux)"
done
[ -x "$binary" ] \
  || die "$binary not found: \`make bench\` builds it (swift build -c release --product stepwise-client-bench)"
[[ $requests =~ ^[1-9][0-9]*$ ]] || die "STEPWISE_BENCH_CLIENT_REQUESTS must be a positive whole number"
for mode in $modes; do
  [[ $mode =~ ^(fetch|fetch-async|connection)$ ]] \
    || die "STEPWISE_BENCH_CLIENT_MODES: unknown mode $mode (fetch, fetch-async, connection)"
done
check_cores
clock_ticks=$(getconf CLK_TCK)
fd_limit=$(ulimit -n)
[ "$fd_limit" = unlimited ] && fd_limit=65536

# ---- Measurements --------------------------------------------------------------------------------
# "ACCEPTS REQUESTS" from nginx's stub_status (each read counts itself as one of each).
nginx_counters() {
  curl -s --max-time 5 "http://127.0.0.1:$server_port/nginx_status" | awk 'NR == 3 { print $1, $3 }'
}

# measure NAME REQUESTS COMMAND...: runs the client; its results go into $scratch/NAME.result.
# REQUESTS is what the client sends, or "wrk" to take the count from wrk's output.
measure() {
  local name=$1 count=$2 out="$scratch/$1.out" before after started ended user_before system_before
  local nginx_before nginx_after tree user system
  shift 2
  note "$name: $*"
  read -r -a before <<<"$(nginx_counters)"
  tree=$(process_tree "$server_pid")
  # shellcheck disable=SC2086
  nginx_before=$(cpu_ticks $tree)
  started=$EPOCHREALTIME
  children_cpu_ticks
  user_before=$children_user_ticks
  system_before=$children_system_ticks
  run_client "$out" "$@" || die "$name failed:"$'\n'"$(tail -n 20 "$out")"
  children_cpu_ticks
  ended=$EPOCHREALTIME
  user=$((children_user_ticks - user_before))
  system=$((children_system_ticks - system_before))
  # shellcheck disable=SC2086
  nginx_after=$(cpu_ticks $tree)
  read -r -a after <<<"$(nginx_counters)"
  if [ "$count" = wrk ]; then
    count=$(awk '/ requests in / { print $1; exit }' "$out")
    [ -n "$count" ] && [ "$count" -gt 0 ] || die "no requests counted in wrk's output:"$'\n'"$(cat "$out")"
    local errors
    errors=$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11; exit }' "$out")
    [ "${errors:-0}" = 0 ] || note "warning: wrk saw $errors socket errors"
  fi
  local seconds connections served
  seconds=$(calc %.6f "$ended - $started")
  connections=$((after[0] - before[0] - 1))
  served=$((after[1] - before[1] - 1))
  if [ "$name" = wrk ]; then
    # wrk first connects once, blocking, to find an address that works, and closes that
    # connection unused (strace shows it); its load runs on the next one.
    connections=$((connections - 1))
  fi
  [ "$connections" = 1 ] || note "warning: nginx saw $name open $connections connections, not 1"
  # wrk may leave one request unanswered when its time is up; nginx counts it.
  [ "$served" -ge "$count" ] && [ "$served" -le $((count + 1)) ] \
    || note "warning: nginx served $served requests to $name, which counted $count"
  {
    echo "requests $count"
    echo "seconds $seconds"
    echo "rps $(calc %.1f "$count / $seconds")"
    echo "cpu_ticks $((user + system))"
    echo "cpu_s_per_100k $(calc %.4f "($user + $system) / $clock_ticks / $count * 100000")"
    echo "user_cpu_s_per_100k $(calc %.4f "$user / $clock_ticks / $count * 100000")"
    echo "system_cpu_s_per_100k $(calc %.4f "$system / $clock_ticks / $count * 100000")"
    echo "client_core_busy $(calc %.3f "($user + $system) / $clock_ticks / $seconds")"
    echo "nginx_cpu_s_per_100k $(calc %.4f "($nginx_after - $nginx_before) / $clock_ticks / $count * 100000")"
    echo "nginx_core_busy $(calc %.3f "($nginx_after - $nginx_before) / $clock_ticks / $seconds")"
    echo "nginx_connections $connections"
    echo "nginx_requests $served"
    # The load program's own line (its loop only, from getrusage), for comparison.
    grep -m1 '^mode=' "$out" | sed 's/^/self_reported /' || true
  } >"$scratch/$name.result"
}

# ---- Run -----------------------------------------------------------------------------------------
started_at=$(date '+%Y-%m-%d %H:%M:%S %z')
busy_before=$(machine_busy)
note "nginx on core $server_cpu, clients on core $client_cpu: $requests requests per stepwise mode and" \
  "curl, wrk -t1 -c1 -d$duration; machine ${busy_before}% busy"
warn_if_busy "$busy_before" before

note "nginx: starting"
start_server nginx "exec '$here/nginx.sh' {port} {dir}"
url="http://127.0.0.1:$server_port/hello"
if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
  note "warm-up: wrk -t1 -c1 -d$warmup"
  run_client "$scratch/warmup" wrk -t1 -c1 -d"$warmup" "$url" \
    || die "wrk warm-up failed:"$'\n'"$(cat "$scratch/warmup")"
fi

clients=()
for mode in $modes; do
  measure "stepwise-$mode" "$requests" "$binary" --mode "$mode" --requests "$requests" --url "$url"
  clients+=("stepwise-$mode")
done
measure wrk wrk wrk -t1 -c1 -d"$duration" "$url"
measure curl "$requests" curl -s -o /dev/null "$url?[1-$requests]"
clients+=(wrk curl)
stop_tree "$server_pid"
busy_after=$(machine_busy)
warn_if_busy "$busy_after" after

# ---- Report --------------------------------------------------------------------------------------
get() { awk -v key="$2" '$1 == key { print $2; exit }' "$scratch/$1.result"; }
# ratio NAME OTHER METRIC: NAME's METRIC over OTHER's.
ratio() {
  awk -v a="$(get "$1" "$3")" -v b="$(get "$2" "$3")" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}
row() { printf '%-21s %8s %10s %10s %6s %6s %7s %8s %7s %8s %11s %10s\n' "$@" | sed 's/ *$//'; }
{
  echo
  echo "Stepwise client benchmark, $started_at ($cores cores; other work: ${busy_before}% busy before," \
    "${busy_after}% after)"
  echo "GET /hello from nginx on core $server_cpu, one keep-alive connection, one request at a time;" \
    "clients on core $client_cpu"
  echo
  row client requests requests/s CPU-s/100k user system rps/wrk rps/curl CPU/wrk CPU/curl "nginx conns" "nginx busy"
  for name in "${clients[@]}"; do
    row "$name" "$(get "$name" requests)" "$(get "$name" rps)" "$(get "$name" cpu_s_per_100k)" \
      "$(calc %.2f "$(get "$name" user_cpu_s_per_100k)")" "$(calc %.2f "$(get "$name" system_cpu_s_per_100k)")" \
      "$(ratio "$name" wrk rps)" "$(ratio "$name" curl rps)" \
      "$(ratio "$name" wrk cpu_s_per_100k)" "$(ratio "$name" curl cpu_s_per_100k)" \
      "$(get "$name" nginx_connections)" "$(calc %.0f%% "$(get "$name" nginx_core_busy) * 100")"
  done
  echo
} | tee "$scratch/table"

# Machine-readable: one "client metric value" per line, plus "#" comments.
mkdir -p "$results_dir"
stamp=$(date '+%Y%m%d-%H%M%S')
{
  echo "# stepwise client bench $started_at cores=$cores busy_before_percent=$busy_before" \
    "busy_after_percent=$busy_after"
  echo "# requests=$requests wrk_duration=$duration warmup=$warmup server_cpu=$server_cpu" \
    "client_cpu=$client_cpu clk_tck=$clock_ticks"
  for name in "${clients[@]}"; do
    sed "s/^/$name /" "$scratch/$name.result"
    echo "$name ratio_rps_wrk $(ratio "$name" wrk rps)"
    echo "$name ratio_rps_curl $(ratio "$name" curl rps)"
    echo "$name ratio_cpu_wrk $(ratio "$name" wrk cpu_s_per_100k)"
    echo "$name ratio_cpu_curl $(ratio "$name" curl cpu_s_per_100k)"
  done
} >"$results_dir/client-$stamp.txt"
cp "$results_dir/client-$stamp.txt" "$results_dir/client-latest.txt"
note "results: ${results_dir#"$root"/}/client-latest.txt (and client-$stamp.txt)"
