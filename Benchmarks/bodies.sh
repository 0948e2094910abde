#!/usr/bin/env bash
# Large bodies: server CPU seconds per GiB downloaded (GET of a large file) and uploaded (POST of
# a large body to a sink), `stepwise serve` against nginx with sendfile on and with it off.
# `make bench` runs it after run.sh and client.sh; see Benchmarks/README.md ("Large bodies").
#
# In each of STEPWISE_BENCH_ROUNDS rounds, for each server in turn (never two at once; the order
# rotates from round to round): start it pinned to one core (taskset), serving a scratch directory
# that holds one file of STEPWISE_BENCH_BODY_MIB MiB; warm up (one download, one upload); then,
# with the server's CPU time (utime+stime of all its processes, /proc/PID/stat) read before and
# after, curl on the other core downloads the file STEPWISE_BENCH_BODY_REPEAT times over one
# keep-alive connection, and then uploads it as many times to POST /discard (stepwise's demo
# route; nginx's `return 204`, which reads the body to its end and drops it). Prints the medians
# over the rounds and the median of the rounds' ratios, and writes
# Benchmarks/results/bodies-latest.txt.
#
# The servers:
#   nginx-sendfile  nginx.sh with `sendfile on` (the file goes from the page cache to the socket
#                   inside the kernel: what a stock Debian nginx does)
#   nginx-copy      nginx.sh with `sendfile off` (pread into user-space buffers, then write:
#                   the way stepwise sends a file)
#   stepwise        .build/release/stepwise serve --root DIR
# The upload path is the same in both nginx columns (sendfile does not touch it).
#
# Environment (defaults in brackets):
#   STEPWISE_BENCH_ROUNDS        rounds [5]
#   STEPWISE_BENCH_BODY_MIB      size of the file, MiB [256]
#   STEPWISE_BENCH_BODY_REPEAT   downloads (and uploads) in one measured run [8]
#   STEPWISE_BENCH_SERVER_CPU    core for the servers [0]
#   STEPWISE_BENCH_CLIENT_CPU    core for curl [1]
#   STEPWISE_BENCH_RESULTS       directory for the result files [Benchmarks/results]
#   STEPWISE_BENCH_BEFORE        another stepwise binary (say, a copy of the release build before
#                                a change) to run as a fourth server, "before", in the same rounds;
#                                the table adds its column and stepwise/before [none]
#   PYTHON                       Python 3 interpreter (free ports, probes) [python3]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

rounds=${STEPWISE_BENCH_ROUNDS:-5}
body_mib=${STEPWISE_BENCH_BODY_MIB:-256}
repeat=${STEPWISE_BENCH_BODY_REPEAT:-8}
server_cpu=${STEPWISE_BENCH_SERVER_CPU:-0}
client_cpu=${STEPWISE_BENCH_CLIENT_CPU:-1}
results_dir=${STEPWISE_BENCH_RESULTS:-$here/results}
python=${PYTHON:-python3}
start_timeout=15
fd_limit=4096
stepwise_binary=$root/.build/release/stepwise
servers=(nginx-sendfile nginx-copy stepwise)
before_binary=${STEPWISE_BENCH_BEFORE:-}
[ -z "$before_binary" ] || servers+=(before)

# shellcheck source=Benchmarks/harness.sh
source "$here/harness.sh"

for tool in curl nginx taskset getconf "$python"; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] \
    || die "$tool not found (\`make bench\` installs nginx and curl; taskset is util-linux)"
done
[[ $rounds =~ ^[1-9][0-9]*$ && $body_mib =~ ^[1-9][0-9]*$ && $repeat =~ ^[1-9][0-9]*$ ]] \
  || die "STEPWISE_BENCH_ROUNDS, _BODY_MIB and _BODY_REPEAT must be whole numbers, at least 1"
[ -x "$stepwise_binary" ] \
  || die "$stepwise_binary not found: \`make bench\` builds it (swift build -c release --product stepwise)"
[ -z "$before_binary" ] || [ -x "$before_binary" ] \
  || die "STEPWISE_BENCH_BEFORE: $before_binary is not an executable"
check_cores
clock_ticks=$(getconf CLK_TCK)

# The served directory: one file of random octets (incompressible, like most large downloads).
www="$scratch/www"
mkdir -p "$www"
# nginx's worker runs as nobody when started as root: it must be able to reach the file.
chmod 755 "$scratch" "$www"
head -c $((body_mib << 20)) /dev/urandom >"$www/body.bin"
body_bytes=$((body_mib << 20))
total_bytes=$((body_bytes * repeat))

server_command() {
  case $1 in
    nginx-sendfile) echo "STEPWISE_NGINX_ROOT='$www' STEPWISE_NGINX_SENDFILE=on exec '$here/nginx.sh' {port} {dir}" ;;
    nginx-copy) echo "STEPWISE_NGINX_ROOT='$www' STEPWISE_NGINX_SENDFILE=off exec '$here/nginx.sh' {port} {dir}" ;;
    stepwise) echo "exec '$stepwise_binary' serve --host 127.0.0.1 --port {port} --root '$www' --quiet --idle-timeout 120" ;;
    before) echo "exec '$before_binary' serve --host 127.0.0.1 --port {port} --root '$www' --quiet --idle-timeout 120" ;;
  esac
}

# The servers of round ROUND in the order they run: the list rotated by ROUND - 1.
round_order() {
  local shift=$((($1 - 1) % ${#servers[@]})) i
  for ((i = 0; i < ${#servers[@]}; i++)); do
    echo "${servers[$(((i + shift) % ${#servers[@]}))]}"
  done
}

# curl_transfers KIND COUNT OUTPUT: COUNT downloads of the file (KIND download) or uploads of it
# to /discard (KIND upload) over one connection, pinned to the client core; one line per
# transfer in OUTPUT: status, octets down, octets up, new connections, seconds.
curl_transfers() {
  local kind=$1 count=$2 output=$3 args=() i
  for ((i = 0; i < count; i++)); do
    if [ "$kind" = download ]; then
      args+=(-o /dev/null "http://127.0.0.1:$server_port/body.bin")
    else
      args+=(-o /dev/null -T "$www/body.bin" "http://127.0.0.1:$server_port/discard")
    fi
  done
  local extra=()
  # POST, not curl's PUT for -T; no `Expect: 100-continue` (curl asks for it above 1 MiB).
  [ "$kind" = upload ] && extra=(-X POST -H 'Expect:')
  run_client "$output" curl -sS "${extra[@]}" \
    -w '%{http_code} %{size_download} %{size_upload} %{num_connects} %{time_total}\n' "${args[@]}"
}

# measure NAME KIND COUNT: one measured run; prints "KIND_cpu_s_per_gib V", "KIND_gib_per_s V"
# and "KIND_busy V" (server CPU time over curl's time).
measure() {
  local name=$1 kind=$2 count=$3 out="$scratch/$1.$2" tree before after expected_status
  local statuses bytes connects seconds
  tree=$(process_tree "$server_pid")
  # shellcheck disable=SC2086
  before=$(cpu_ticks $tree)
  curl_transfers "$kind" "$count" "$out" || die "curl ($kind) against $name failed:"$'\n'"$(tail -n 5 "$out")"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $tree)
  kill -0 "$server_pid" 2>/dev/null || die "$name died during the $kind run"
  expected_status=$([ "$kind" = download ] && echo 200 || echo 204)
  statuses=$(awk -v s="$expected_status" '$1 != s' "$out" | wc -l)
  bytes=$(awk -v k="$kind" '{ t += (k == "download" ? $2 : $3) } END { printf "%.0f\n", t }' "$out")
  connects=$(awk '{ t += $4 } END { print t + 0 }' "$out")
  seconds=$(awk '{ t += $5 } END { printf "%.3f", t }' "$out")
  [ "$statuses" = 0 ] || die "$name: $statuses of $count ${kind}s did not get $expected_status:"$'\n'"$(cat "$out")"
  [ "$bytes" = $((body_bytes * count)) ] \
    || die "$name: ${kind}ed $bytes octets, not $((body_bytes * count)):"$'\n'"$(cat "$out")"
  [ "$connects" = 1 ] || note "warning: $name used $connects connections for $count ${kind}s, not 1"
  echo "${kind}_cpu_ticks $((after - before))"
  echo "${kind}_cpu_s_per_gib $(calc %.4f "($after - $before) / $clock_ticks / ($bytes / 1073741824)")"
  echo "${kind}_gib_per_s $(calc %.3f "$bytes / 1073741824 / $seconds")"
  echo "${kind}_busy $(calc %.3f "($after - $before) / $clock_ticks / $seconds")"
}

bench_server() {
  local name=$1 round=$2
  note "round $round/$rounds, $name: starting"
  start_server "$name" "$(server_command "$name")"
  curl_transfers download 1 "$scratch/$name.warmup" || die "warm-up download from $name failed"
  curl_transfers upload 1 "$scratch/$name.warmup" || die "warm-up upload to $name failed"
  note "$name: $repeat downloads, then $repeat uploads of $body_mib MiB"
  {
    measure "$name" download "$repeat"
    measure "$name" upload "$repeat"
  } >"$scratch/$name.round-$round"
  stop_tree "$server_pid"
}

started_at=$(date '+%Y-%m-%d %H:%M:%S %z')
busy_before=$(machine_busy)
warn_if_busy "$busy_before" before
for ((round = 1; round <= rounds; round++)); do
  for name in $(round_order "$round"); do
    bench_server "$name" "$round"
  done
done
busy_after=$(machine_busy)
warn_if_busy "$busy_after" after

# ---- Summary -------------------------------------------------------------------------------------
value() { awk -v key="$2" '$1 == key { print $2; exit }' "$1"; }
median() {
  sort -g | awk '{ v[++n] = $1 } END {
    if (n == 0) print "-"; else if (n % 2) print v[(n + 1) / 2]; else printf "%.4f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f\n", a / b }'; }
round_values() {
  local round
  for ((round = 1; round <= rounds; round++)); do value "$scratch/$1.round-$round" "$2"; done
}
# round_ratios A B KEY: A's KEY over B's in each round.
round_ratios() {
  local round
  for ((round = 1; round <= rounds; round++)); do
    ratio_of "$(value "$scratch/$1.round-$round" "$3")" "$(value "$scratch/$2.round-$round" "$3")"
  done
}
spread() { sort -g | awk '{ v[++n] = $1 } END { printf "%s-%s", v[1], v[n] }'; }

keys=(download_cpu_s_per_gib download_gib_per_s download_busy upload_cpu_s_per_gib upload_gib_per_s upload_busy)
# The ratios shown: stepwise over each nginx, and over the "before" build when there is one.
references=(nginx-sendfile nginx-copy)
[ -z "$before_binary" ] || references+=(before)
row() { printf '%-24s' "$1"; shift; printf ' %15s' "$@"; echo; }
{
  echo
  echo "Stepwise large-body benchmark, $started_at ($(getconf _NPROCESSORS_ONLN) cores;" \
    "other work: ${busy_before}% busy before, ${busy_after}% after)"
  echo "$repeat x $body_mib MiB per run over one keep-alive connection (curl on core $client_cpu," \
    "servers on core $server_cpu); $rounds rounds, medians; a ratio is the median of the rounds' ratios"
  [ -z "$before_binary" ] || echo "before = $before_binary"
  echo
  row "" "${servers[@]}" "${references[@]/#/stepwise/}"
  for key in "${keys[@]}"; do
    cells=()
    for name in "${servers[@]}"; do cells+=("$(round_values "$name" "$key" | median)"); done
    for name in "${references[@]}"; do cells+=("$(round_ratios stepwise "$name" "$key" | median)"); done
    row "$key" "${cells[@]}"
  done
  echo
  for key in download_cpu_s_per_gib upload_cpu_s_per_gib; do
    for name in "${servers[@]}"; do
      echo "$key $name by round: $(round_values "$name" "$key" | paste -sd ' ')"
    done
    for name in "${references[@]}"; do
      echo "$key stepwise/$name by round: $(round_ratios stepwise "$name" "$key" | paste -sd ' ')" \
        "(range $(round_ratios stepwise "$name" "$key" | spread))"
    done
  done
  echo
}

mkdir -p "$results_dir"
stamp=$(date '+%Y%m%d-%H%M%S')
{
  echo "# stepwise bodies bench $started_at busy_before_percent=$busy_before busy_after_percent=$busy_after"
  echo "# body_mib=$body_mib repeat=$repeat rounds=$rounds server_cpu=$server_cpu client_cpu=$client_cpu clk_tck=$clock_ticks"
  [ -z "$before_binary" ] || echo "# before = $before_binary"
  for name in "${servers[@]}"; do
    for key in "${keys[@]}"; do echo "$name $key $(round_values "$name" "$key" | median)"; done
  done
  for key in "${keys[@]}"; do
    for name in "${references[@]}"; do
      echo "ratio stepwise/$name $key $(round_ratios stepwise "$name" "$key" | median)"
    done
  done
  for ((round = 1; round <= rounds; round++)); do
    for name in "${servers[@]}"; do sed "s/^/round $round $name /" "$scratch/$name.round-$round"; done
  done
} >"$results_dir/bodies-$stamp.txt"
cp "$results_dir/bodies-$stamp.txt" "$results_dir/bodies-latest.txt"
note "results: ${results_dir#"$root"/}/bodies-latest.txt (and bodies-$stamp.txt)"
