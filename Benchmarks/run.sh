#!/usr/bin/env bash
# Side-by-side benchmark: `stepwise serve` against nginx on GET /hello ("Hello, World!").
# `make bench` runs it after a release build; see Benchmarks/README.md for what is measured.
#
# In each of STEPWISE_BENCH_ROUNDS rounds, for each server in turn (never both at once; nginx
# first in odd rounds, stepwise first in even ones): start it pinned to one core (taskset), check
# that /hello answers, warm up with wrk, then run `wrk --latency` pinned to the other core while
# reading the server's CPU time (utime+stime of all its processes) before and after. Once per
# server, after one of those runs: hold STEPWISE_BENCH_IDLE_CONNECTIONS idle keep-alive
# connections (idle_connections.py) and compare the server's RSS before and after. Prints a table
# of the medians over the rounds, with the verdict on the median of the rounds' CPU ratios (one
# run's ratio moves by ±0.1 with the machine) and a second one on their mean's 95% confidence
# interval, and writes Benchmarks/results/latest.txt.
#
# Environment (defaults in brackets):
#   STEPWISE_BENCH_ROUNDS            rounds, each a run of both servers; 1 for a single run [5]
#   STEPWISE_BENCH_DURATION          wrk duration of the measured run [8s]
#   STEPWISE_BENCH_WARMUP            wrk warm-up before it, 0 for none [2s]
#   STEPWISE_BENCH_CONNECTIONS       wrk connections [50]
#   STEPWISE_BENCH_THREADS           wrk threads [1]
#   STEPWISE_BENCH_IDLE_CONNECTIONS  idle connections for the memory test, 0 to skip it [10000]
#   STEPWISE_BENCH_IDLE_SETTLE       seconds to wait with them open before reading RSS [2]
#   STEPWISE_BENCH_SERVER_CPU        core for the servers [0]
#   STEPWISE_BENCH_CLIENT_CPU        core for wrk and the idle-connection holder [1]
#   STEPWISE_BENCH_SERVER_CMD        run this shell command instead of stepwise; {port} and {dir}
#                                    (a scratch directory) are substituted, e.g. nginx against
#                                    itself: 'Benchmarks/nginx.sh {port} {dir}'
#   STEPWISE_BENCH_SERVER_NAME       the label of that column [stepwise, or "candidate" with
#                                    STEPWISE_BENCH_SERVER_CMD]
#   STEPWISE_BENCH_RESULTS           directory for the result files [Benchmarks/results]
#   PYTHON                           Python 3 interpreter [python3]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

rounds=${STEPWISE_BENCH_ROUNDS:-5}
duration=${STEPWISE_BENCH_DURATION:-8s}
warmup=${STEPWISE_BENCH_WARMUP:-2s}
connections=${STEPWISE_BENCH_CONNECTIONS:-50}
threads=${STEPWISE_BENCH_THREADS:-1}
idle_count=${STEPWISE_BENCH_IDLE_CONNECTIONS:-10000}
idle_settle=${STEPWISE_BENCH_IDLE_SETTLE:-2}
server_cpu=${STEPWISE_BENCH_SERVER_CPU:-0}
client_cpu=${STEPWISE_BENCH_CLIENT_CPU:-1}
results_dir=${STEPWISE_BENCH_RESULTS:-$here/results}
python=${PYTHON:-python3}
start_timeout=15 # seconds for a server to answer /hello

stepwise_binary=$root/.build/release/stepwise
if [ -n "${STEPWISE_BENCH_SERVER_CMD:-}" ]; then
  candidate_cmd=$STEPWISE_BENCH_SERVER_CMD
  candidate=${STEPWISE_BENCH_SERVER_NAME:-candidate}
else
  candidate_cmd="exec '$stepwise_binary' serve --host 127.0.0.1 --port {port} --quiet --idle-timeout 120"
  candidate=${STEPWISE_BENCH_SERVER_NAME:-stepwise}
fi
export STEPWISE_BENCH_IDLE_CONNECTIONS=$idle_count # nginx.sh sizes worker_connections by it

# shellcheck source=Benchmarks/harness.sh
source "$here/harness.sh"

# Targets for the candidate (from the benchmark issue).
target_cpu_ratio=0.92  # at most this many times nginx's CPU per request
target_idle_bytes=800  # at most this many bytes of RSS per idle connection

# ---- Preconditions -------------------------------------------------------------------------------
[[ $candidate =~ ^[A-Za-z0-9._-]+$ && $candidate != nginx ]] \
  || die "STEPWISE_BENCH_SERVER_NAME must be one word (letters, digits, . _ -) other than nginx"
for tool in wrk nginx taskset getconf "$python"; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] \
    || die "$tool not found (\`make bench\` installs nginx and wrk; taskset is util-linux)"
done
[[ $connections =~ ^[0-9]+$ && $threads =~ ^[0-9]+$ && $idle_count =~ ^[0-9]+$ ]] \
  || die "STEPWISE_BENCH_CONNECTIONS, _THREADS and _IDLE_CONNECTIONS must be whole numbers"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "STEPWISE_BENCH_ROUNDS must be a whole number, at least 1"
check_cores
if [ -z "${STEPWISE_BENCH_SERVER_CMD:-}" ] && [ ! -x "$stepwise_binary" ]; then
  die "$stepwise_binary not found: \`make bench\` builds it (swift build -c release --product stepwise)"
fi
clock_ticks=$(getconf CLK_TCK)

# Servers and the idle-connection holder run with this fd limit (the hard limit, at most 65536).
fd_limit=$(ulimit -Hn)
[ "$fd_limit" = unlimited ] && fd_limit=65536
[ "$fd_limit" -gt 65536 ] && fd_limit=65536
fd_needed=$((idle_count + idle_count / 8 + 1024))
if [ "$idle_count" -gt 0 ] && [ "$fd_limit" -lt "$fd_needed" ]; then
  die "the fd hard limit ($fd_limit) is too low for $idle_count idle connections (need $fd_needed);" \
    "raise it (ulimit -Hn) or lower STEPWISE_BENCH_IDLE_CONNECTIONS"
fi
ulimit -n "$fd_limit" # for wrk and the holder; start_server sets it again for the servers

# ---- Measurements --------------------------------------------------------------------------------
# run_wrk OUTPUT ARGS...: wrk with the run's threads and connections (run_client).
run_wrk() {
  local output=$1
  shift
  run_client "$output" wrk -t"$threads" -c"$connections" "$@"
}

# Sum of VmRSS (kB) over the given pids.
rss_kb() {
  local total=0 pid kb
  for pid in "$@"; do
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# wrk latency ("712.00us", "1.20ms", "2.00s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n
  }'
}

# bench_server NAME ROUND: one round of one server, freshly started: a warm-up, then the measured
# wrk run (measure_wrk, into $scratch/NAME.round-ROUND); in the server's idle round (idle_round),
# the idle connections after that run (into $scratch/NAME.idle).
bench_server() {
  local name=$1 round=$2 url
  note "round $round/$rounds, $name: starting"
  start_server "$name" "$(server_command "$name")"
  url="http://127.0.0.1:$server_port/hello"

  if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
    note "$name: warm-up, wrk -t$threads -c$connections -d$warmup"
    run_wrk "$scratch/$name.warmup" -d"$warmup" "$url" \
      || die "wrk warm-up against $name failed:"$'\n'"$(cat "$scratch/$name.warmup")"
  fi
  measure_wrk "$name" "$round" "$url" >"$scratch/$name.round-$round"
  if [ "$idle_count" -gt 0 ] && [ "$round" = "$(idle_round "$name")" ]; then
    idle_connections "$name" >"$scratch/$name.idle"
  fi

  note "$name: stopping"
  stop_tree "$server_pid"
}

# measure_wrk NAME ROUND URL: the measured wrk run against the running server, with the server's
# CPU time before and after; prints result lines.
measure_wrk() {
  local name=$1 round=$2 url=$3 out="$scratch/$1.wrk" tree before after
  local requests seconds rps p99 errors non2xx
  note "$name: wrk -t$threads -c$connections -d$duration --latency"
  tree=$(process_tree "$server_pid")
  # shellcheck disable=SC2086
  before=$(cpu_ticks $tree)
  run_wrk "$out" -d"$duration" --latency "$url" \
    || die "wrk against $name failed:"$'\n'"$(cat "$out")"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $tree)
  kill -0 "$server_pid" 2>/dev/null || die "$name died during the wrk run"

  requests=$(awk '/ requests in / { print $1; exit }' "$out")
  seconds=$(awk '/ requests in / { sub(/s,?$/, "", $4); print $4; exit }' "$out")
  rps=$(wrk_field "$out" Requests/sec:)
  p99=$(to_ms "$(wrk_field "$out" 99%)")
  errors=$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11; exit }' "$out")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2; exit }' "$out")
  if ! [[ $requests =~ ^[0-9]+$ ]] || [ "$requests" -eq 0 ]; then
    die "no requests counted in wrk's output for $name:"$'\n'"$(cat "$out")"
  fi
  if [ "${errors:-0}" != 0 ] || [ "${non2xx:-0}" != 0 ]; then
    note "warning: wrk saw ${errors:-0} socket errors and ${non2xx:-0} non-2xx responses from $name" \
      "in round $round"
  fi
  echo "requests $requests"
  echo "seconds $seconds"
  echo "rps $rps"
  echo "p99_ms $p99"
  echo "cpu_ticks $((after - before))"
  echo "cpu_s_per_100k $(calc %.4f "($after - $before) / $clock_ticks / $requests * 100000")"
  echo "cpu_utilisation $(calc %.3f "($after - $before) / $clock_ticks / $seconds")"
  echo "socket_errors ${errors:-0}"
  echo "non_2xx ${non2xx:-0}"
}

# Holds $idle_count idle keep-alive connections against the current server; prints result lines.
idle_connections() {
  local name=$1 holder_out="$scratch/$1.holder" tree before after ready finished holder_pid
  local deadline=$((SECONDS + 120))
  tree=$(process_tree "$server_pid")
  # shellcheck disable=SC2086
  before=$(rss_kb $tree)
  note "$name: opening $idle_count idle keep-alive connections"
  taskset -c "$client_cpu" "$python" "$here/idle_connections.py" \
    --port "$server_port" --count "$idle_count" </dev/null >"$holder_out" 2>&1 &
  holder_pid=$!
  started_pids+=("$holder_pid")
  until ready=$(grep -m1 '^ready ' "$holder_out"); do
    kill -0 "$holder_pid" 2>/dev/null \
      || die "the idle-connection holder stopped:"$'\n'"$(cat "$holder_out")"
    [ "$SECONDS" -lt "$deadline" ] || die "the idle connections were not all open after 120 s"
    sleep 0.1
  done
  sleep "$idle_settle"
  tree=$(process_tree "$server_pid")
  # shellcheck disable=SC2086
  after=$(rss_kb $tree)
  stop_tree "$holder_pid"
  finished=$(grep -m1 '^done ' "$holder_out" || true)

  local open failed bad still closed
  open=$(sed -E 's/.*open=([0-9]+).*/\1/' <<<"$ready")
  failed=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$ready")
  bad=$(sed -E 's/.*bad_status=([0-9]+).*/\1/' <<<"$ready")
  still=$(sed -E 's/.*still_open=([0-9]+).*/\1/' <<<"${finished:-still_open=?}")
  closed=$(sed -E 's/.*closed_by_server=([0-9]+).*/\1/' <<<"${finished:-closed_by_server=?}")
  [ "$open" -gt 0 ] || die "none of the $idle_count idle connections to $name opened:"$'\n'"$(cat "$holder_out")"
  [ "$failed" = 0 ] || note "warning: $failed of $idle_count idle connections to $name failed"
  [ "$bad" = 0 ] || note "warning: $bad idle connections to $name got a status other than 200"
  [ "$closed" = 0 ] || note "warning: $name closed $closed idle connections during the measurement"
  echo "idle_requested $idle_count"
  echo "idle_open $open"
  echo "idle_failed $failed"
  echo "idle_closed_by_server $closed"
  echo "idle_still_open_at_end $still"
  echo "rss_before_kb $before"
  echo "rss_after_kb $after"
  echo "idle_bytes_per_conn $(calc %.1f "($after - $before) * 1024 / $open")"
}

# ---- Rounds --------------------------------------------------------------------------------------
# One wrk run per server is not enough on a shared machine: its speed drifts from minute to minute,
# by ±10% in CPU per request. So the servers are measured in rounds, both back to back in each,
# and the verdict is on the median of the rounds' ratios: a ratio of two runs a few seconds apart
# cancels most of the drift, and the median drops the rounds that other work disturbed.

server_command() {
  if [ "$1" = nginx ]; then echo "exec '$here/nginx.sh' {port} {dir}"; else echo "$candidate_cmd"; fi
}

# The servers of a round in the order they run: nginx first in odd rounds, the candidate first in
# even ones, so that a machine getting faster or slower during the rounds favours neither side.
round_order() {
  if [ $(($1 % 2)) = 1 ]; then echo nginx "$candidate"; else echo "$candidate" nginx; fi
}

# The round after whose wrk run a server's idle-connection test runs (once per server: it is
# repeatable, and slow): the last round in which that server runs second. The test never sits
# between the two wrk runs of a round then, which it would stretch apart by tens of seconds. With
# one round nginx never runs second, and its test follows its run in round 1, as before rounds.
idle_round() {
  local name=$1 round order
  for ((round = rounds; round > 1; round--)); do
    read -r -a order <<<"$(round_order "$round")"
    [ "${order[1]}" != "$name" ] || break
  done
  echo "$round"
}

# run_round ROUND: how busy the machine is (while nothing of ours runs), then both servers.
run_round() {
  local round=$1 busy name
  busy=$(machine_busy)
  echo "$busy" >"$scratch/busy.round-$round"
  warn_if_busy "$busy" "before round $round of"
  note "round $round/$rounds: $(round_order "$round" | sed 's/ /, then /'); machine ${busy}% busy"
  for name in $(round_order "$round"); do
    bench_server "$name" "$round"
  done
}

# ---- Run -----------------------------------------------------------------------------------------
started_at=$(date '+%Y-%m-%d %H:%M:%S %z')
note "$rounds round(s) of wrk -t$threads -c$connections -d$duration (warm-up $warmup)," \
  "servers on core $server_cpu, clients on core $client_cpu, $idle_count idle connections"
for ((round = 1; round <= rounds; round++)); do
  run_round "$round"
done
busy_before=$(cat "$scratch/busy.round-1")
busy_after=$(machine_busy)
warn_if_busy "$busy_after" after

# ---- Summary over the rounds ---------------------------------------------------------------------
# value FILE KEY: the value of KEY in a result file ("KEY VALUE" lines); empty if it has none.
value() { awk -v key="$2" '$1 == key { print $2; exit }' "$1"; }

# The median of the numbers on stdin, one per line ("-" lines skipped; "-" if none): the middle
# one, or for an even count the mean of the middle two with as many decimals as the inputs have.
median() {
  awk '$1 != "-"' | sort -g | awk '
    BEGIN { decimals = 0 }
    {
      v[++n] = $1
      dot = index($1, ".")
      if (dot && length($1) - dot > decimals) decimals = length($1) - dot
    }
    END {
      if (n == 0) print "-"
      else if (n % 2) print v[(n + 1) / 2]
      else printf "%." decimals "f\n", (v[n / 2] + v[n / 2 + 1]) / 2
    }'
}

# extreme min|max: the smallest or largest of the numbers on stdin ("-" lines skipped; "-" if none).
extreme() {
  awk '$1 != "-"' | sort -g | awk -v which="$1" '
    { v[++n] = $1 }
    END { print (n == 0 ? "-" : (which == "min" ? v[1] : v[n])) }'
}

# mean_ci: the mean of the numbers on stdin ("-" lines skipped) and the two ends of its two-sided
# 95% confidence interval (Student's t on the numbers' standard error), then their count, on one
# line: "MEAN LOW HIGH N", three decimals. "- - - N" with fewer than two numbers.
mean_ci() {
  awk '$1 != "-"' | awk '
    BEGIN {
      # t(0.975, df) for df = 1..30; 1.96 beyond.
      split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 " \
        "2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", t, " ")
    }
    { v[++n] = $1; sum += $1 }
    END {
      if (n < 2) { print "- - - " n; exit }
      mean = sum / n
      for (i = 1; i <= n; i++) squares += (v[i] - mean) ^ 2
      half = (n - 1 <= 30 ? t[n - 1] : 1.96) * sqrt(squares / (n - 1) / n)
      printf "%.3f %.3f %.3f %d\n", mean, mean - half, mean + half, n
    }'
}

# ratio_of A B: A / B to three decimals, or "-" when either is missing or B is 0.
ratio_of() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f\n", a / b }'
}

# round_values NAME KEY: the server's KEY in each round, one per line.
round_values() {
  local round
  for ((round = 1; round <= rounds; round++)); do
    value "$scratch/$1.round-$round" "$2"
  done
}

# round_ratio ROUND KEY: the candidate's KEY over nginx's in that round.
round_ratio() {
  ratio_of "$(value "$scratch/$candidate.round-$1" "$2")" "$(value "$scratch/nginx.round-$1" "$2")"
}

# round_ratios KEY: round_ratio of each round, one per line.
round_ratios() {
  local round
  for ((round = 1; round <= rounds; round++)); do
    round_ratio "$round" "$1"
  done
}

# summarise NAME: the server's result lines, as a single run's were: the median over the rounds of
# each wrk number (each on its own, so cpu_s_per_100k need not be cpu_ticks over requests), the
# totals of wrk's errors, and the idle-connection lines.
summarise() {
  local name=$1 key
  for key in requests seconds rps p99_ms cpu_ticks cpu_s_per_100k cpu_utilisation; do
    echo "$key $(round_values "$name" "$key" | median)"
  done
  for key in socket_errors non_2xx; do
    echo "$key $(round_values "$name" "$key" | awk '{ total += $1 } END { print total + 0 }')"
  done
  if [ -f "$scratch/$name.idle" ]; then cat "$scratch/$name.idle"; fi
}

for name in nginx "$candidate"; do
  summarise "$name" >"$scratch/$name.result"
done

# ---- Report --------------------------------------------------------------------------------------
get() { value "$scratch/$1.result" "$2"; }
# ratio KEY: the median of the rounds' candidate/nginx ratios of KEY.
ratio() { round_ratios "$1" | median; }
verdict() { awk -v v="$1" -v limit="$2" 'BEGIN { if (v == "-" || v == "") print ""; else print (v <= limit ? "met" : "MISSED") }'; }
# confidence_verdict LOW HIGH LIMIT: "met" when the whole interval is at or below LIMIT, "MISSED"
# when it is all above, "undecided" when LIMIT is inside it ("" without an interval).
confidence_verdict() {
  awk -v low="$1" -v high="$2" -v limit="$3" 'BEGIN {
    if (low == "-" || low == "") print ""
    else print (high <= limit ? "met" : low > limit ? "MISSED" : "undecided")
  }'
}

cpu_ratio=$(ratio cpu_s_per_100k)
cpu_ratio_min=$(round_ratios cpu_s_per_100k | extreme min)
cpu_ratio_max=$(round_ratios cpu_s_per_100k | extreme max)
read -r cpu_ratio_mean cpu_ratio_low cpu_ratio_high _ <<<"$(round_ratios cpu_s_per_100k | mean_ci)"
cpu_confidence=$(confidence_verdict "$cpu_ratio_low" "$cpu_ratio_high" "$target_cpu_ratio")
idle_candidate=$(get "$candidate" idle_bytes_per_conn)
idle_ratio=$(ratio_of "$idle_candidate" "$(get nginx idle_bytes_per_conn)")
row() { printf '%-28s %14s %14s %16s   %s\n' "$@" | sed 's/ *$//'; }
{
  echo
  echo "Stepwise benchmark, $started_at ($cores cores; other work: ${busy_before}% busy before, ${busy_after}% after)"
  echo "GET /hello; wrk -t$threads -c$connections -d$duration --latency after a $warmup warm-up;" \
    "servers on core $server_cpu, wrk on core $client_cpu"
  if [ "$rounds" -gt 1 ]; then
    echo "$rounds rounds, nginx and $candidate first by turns: medians over the rounds;" \
      "a ratio is the median of the rounds' ratios"
  fi
  [ -z "${STEPWISE_BENCH_SERVER_CMD:-}" ] || echo "$candidate = $STEPWISE_BENCH_SERVER_CMD"
  echo
  row "" nginx "$candidate" "$candidate/nginx" target
  row "requests/s" "$(get nginx rps)" "$(get "$candidate" rps)" "$(ratio rps)" ""
  row "p99 latency (ms)" "$(get nginx p99_ms)" "$(get "$candidate" p99_ms)" "$(ratio p99_ms)" ""
  row "server CPU-s / 100k req" "$(get nginx cpu_s_per_100k)" "$(get "$candidate" cpu_s_per_100k)" \
    "$cpu_ratio" "<= ${target_cpu_ratio}x nginx: $(verdict "$cpu_ratio" "$target_cpu_ratio")"
  row "server core busy" "$(calc %.0f%% "$(get nginx cpu_utilisation) * 100")" \
    "$(calc %.0f%% "$(get "$candidate" cpu_utilisation) * 100")" "" ""
  row "wrk errors (socket/non-2xx)" "$(get nginx socket_errors)/$(get nginx non_2xx)" \
    "$(get "$candidate" socket_errors)/$(get "$candidate" non_2xx)" "" ""
  if [ "$idle_count" -gt 0 ]; then
    row "RSS per idle conn (bytes)" "$(get nginx idle_bytes_per_conn)" "$idle_candidate" \
      "$idle_ratio" "<= $target_idle_bytes B: $(verdict "$idle_candidate" "$target_idle_bytes")"
    row "idle conns open/requested" "$(get nginx idle_open)/$idle_count" \
      "$(get "$candidate" idle_open)/$idle_count" "" ""
  fi
  echo
  echo "CPU ratio by round: $(round_ratios cpu_s_per_100k | paste -sd ' ')" \
    "(min $cpu_ratio_min, median $cpu_ratio, max $cpu_ratio_max)"
  if [ -n "$cpu_confidence" ]; then
    echo "CPU ratio mean $cpu_ratio_mean, 95% confidence interval $cpu_ratio_low-$cpu_ratio_high:" \
      "<= ${target_cpu_ratio}x nginx with 95% confidence: $cpu_confidence"
  fi
  echo
}

# Machine-readable: one "server metric value" per line, plus "#" comments.
mkdir -p "$results_dir"
stamp=$(date '+%Y%m%d-%H%M%S')
{
  echo "# stepwise bench $started_at cores=$cores busy_before_percent=$busy_before busy_after_percent=$busy_after"
  echo "# wrk threads=$threads connections=$connections duration=$duration warmup=$warmup rounds=$rounds" \
    "server_cpu=$server_cpu client_cpu=$client_cpu idle=$idle_count settle=${idle_settle}s clk_tck=$clock_ticks"
  echo "# server lines: medians over the rounds (socket_errors, non_2xx: totals; idle_*: one test);" \
    "ratio lines: medians of the rounds' ratios; round lines: each round"
  [ -z "${STEPWISE_BENCH_SERVER_CMD:-}" ] || echo "# $candidate = $STEPWISE_BENCH_SERVER_CMD"
  for name in nginx "$candidate"; do
    sed "s/^/$name /" "$scratch/$name.result"
  done
  echo "ratio rps $(ratio rps)"
  echo "ratio p99_ms $(ratio p99_ms)"
  echo "ratio cpu_s_per_100k $cpu_ratio"
  echo "ratio cpu_s_per_100k_min $cpu_ratio_min"
  echo "ratio cpu_s_per_100k_max $cpu_ratio_max"
  if [ -n "$cpu_confidence" ]; then
    echo "ratio cpu_s_per_100k_mean $cpu_ratio_mean"
    echo "ratio cpu_s_per_100k_ci95_low $cpu_ratio_low"
    echo "ratio cpu_s_per_100k_ci95_high $cpu_ratio_high"
  fi
  [ "$idle_count" = 0 ] || echo "ratio idle_bytes_per_conn $idle_ratio"
  echo "target cpu_ratio_max $target_cpu_ratio $(verdict "$cpu_ratio" "$target_cpu_ratio")"
  [ -z "$cpu_confidence" ] || echo "target cpu_ratio_max_95 $target_cpu_ratio $cpu_confidence"
  [ "$idle_count" = 0 ] \
    || echo "target idle_bytes_per_conn_max $target_idle_bytes $(verdict "$idle_candidate" "$target_idle_bytes")"
  for ((round = 1; round <= rounds; round++)); do
    echo "round $round first $(round_order "$round" | cut -d' ' -f1)"
    echo "round $round busy_before_percent $(cat "$scratch/busy.round-$round")"
    for name in nginx "$candidate"; do
      sed "s/^/round $round $name /" "$scratch/$name.round-$round"
    done
    for key in rps p99_ms cpu_s_per_100k; do
      echo "round $round ratio $key $(round_ratio "$round" "$key")"
    done
  done
} >"$results_dir/$stamp.txt"
cp "$results_dir/$stamp.txt" "$results_dir/latest.txt"
note "results: ${results_dir#"$root"/}/latest.txt (and $stamp.txt)"
