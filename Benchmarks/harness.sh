# Shared by the benchmark scripts (run.sh, client.sh); sourced, not run. Sourcing it makes a
# scratch directory and sets the traps that stop everything started (started_pids) on exit.
#
# The caller sets, before calling the functions that use them: python (interpreter for
# free_port and probe), fd_limit and start_timeout (start_server), server_cpu (start_server) and
# client_cpu (run_client).

die() {
  echo "bench: error: $*" >&2
  exit 1
}
note() { echo "bench: $*" >&2; }

# ---- Cleanup: every process we start is in started_pids; trap EXIT stops them and their children --
scratch=$(mktemp -d "${TMPDIR:-/tmp}/stepwise-bench.XXXXXX")
started_pids=()

# The pid and all its descendants (an nginx master and its worker; children of a wrapper shell).
process_tree() {
  local pids=("$1") i=0 stat rest ppid pid
  while [ "$i" -lt "${#pids[@]}" ]; do
    for stat in /proc/[0-9]*/stat; do
      read -r rest 2>/dev/null <"$stat" || continue
      rest=${rest##*) } # fields after "pid (comm) ": state ppid ...
      ppid=${rest#* }
      ppid=${ppid%% *}
      if [ "$ppid" = "${pids[$i]}" ]; then
        pid=${stat#/proc/}
        pids+=("${pid%/stat}")
      fi
    done
    i=$((i + 1))
  done
  echo "${pids[@]}"
}

# Stops a process we started and its descendants: SIGTERM, then SIGKILL after 5 s; forgets the
# pid, so that cleanup never signals a reused one.
stop_tree() {
  local pid=$1 tree waited=0 kept=() other
  for other in "${started_pids[@]}"; do
    [ "$other" = "$pid" ] || kept+=("$other")
  done
  started_pids=("${kept[@]}")
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  tree=$(process_tree "$pid")
  # shellcheck disable=SC2086
  kill -TERM $tree 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  # shellcheck disable=SC2086
  kill -KILL $tree 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do # stop_tree edits the array; this loop walks a copy
    stop_tree "$pid"
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sets cores; stops unless server_cpu and client_cpu are cores of this machine; warns when they
# are the same one.
check_cores() {
  local cpu
  cores=$(getconf _NPROCESSORS_ONLN)
  for cpu in "$server_cpu" "$client_cpu"; do
    [[ $cpu =~ ^[0-9]+$ ]] && [ "$cpu" -lt "$cores" ] \
      || die "core $cpu does not exist here ($cores cores); set STEPWISE_BENCH_SERVER_CPU/_CLIENT_CPU"
  done
  [ "$server_cpu" != "$client_cpu" ] || note "warning: the server and the clients share core $server_cpu"
}

# ---- Measurements --------------------------------------------------------------------------------
free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Sum of utime+stime (clock ticks) over the given pids.
cpu_ticks() {
  local total=0 pid rest fields
  for pid in "$@"; do
    read -r rest 2>/dev/null <"/proc/$pid/stat" || continue
    rest=${rest##*) }
    read -r -a fields <<<"$rest" # fields[0] is field 3 (state): utime is 14, stime 15
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# Checks that GET /hello on the port answers 200 "Hello, World!" over keep-alive HTTP/1.1.
probe() {
  "$python" - "$1" <<'EOF' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"Hello, World!"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    sys.exit(0 if data.startswith(b"HTTP/1.1 200") and data.endswith(b"Hello, World!") else 1)
EOF
}

# start_server NAME COMMAND: runs COMMAND ({port}, {dir} substituted) pinned to the server core
# with the raised fd limit; sets server_pid and server_port once /hello answers.
start_server() {
  local name=$1 command=$2 dir="$scratch/$1" port deadline=$((SECONDS + start_timeout))
  mkdir -p "$dir"
  port=$(free_port)
  command=${command//\{port\}/$port}
  command=${command//\{dir\}/$dir}
  (
    ulimit -n "$fd_limit"
    exec taskset -c "$server_cpu" bash -c "$command"
  ) </dev/null >"$dir/server.log" 2>&1 &
  server_pid=$!
  started_pids+=("$server_pid")
  until probe "$port"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid" 2>/dev/null && status=0 || status=$?
      die "$name exited (status $status) instead of serving on 127.0.0.1:$port" \
        "($command); its output:"$'\n'"$(tail -n 20 "$dir/server.log" | grep . || echo '(none)')"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$name did not answer GET /hello on 127.0.0.1:$port within ${start_timeout}s" \
        "($command); its output:"$'\n'"$(tail -n 20 "$dir/server.log" | grep . || echo '(none)')"
    fi
    sleep 0.1
  done
  server_port=$port
}

# run_client OUTPUT COMMAND...: COMMAND pinned to the client core, its output in OUTPUT, in the
# background so that a signal to this script is handled at once (bash runs traps only between
# foreground commands). Returns its exit status. It is a child of this shell, reaped here, so its
# CPU time shows in children_cpu_ticks.
run_client() {
  local output=$1 pid status=0
  shift
  taskset -c "$client_cpu" "$@" >"$output" 2>&1 &
  pid=$!
  started_pids+=("$pid")
  wait "$pid" || status=$?
  stop_tree "$pid" # only forgets it: it has exited
  return "$status"
}

# Sets children_user_ticks and children_system_ticks to the user and system CPU time (clock
# ticks) of this shell's reaped children (cutime and cstime of /proc/$$/stat). Variables, not
# output: a command substitution would be a child too.
children_cpu_ticks() {
  local rest fields
  read -r rest </proc/$$/stat
  rest=${rest##*) }
  read -r -a fields <<<"$rest" # fields[0] is field 3 (state): cutime is 16, cstime 17
  children_user_ticks=${fields[13]}
  children_system_ticks=${fields[14]}
}

# The field after LABEL in wrk's output ("99%", "Requests/sec:", ...).
wrk_field() { awk -v label="$2" '$1 == label { print $2; exit }' "$1"; }

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# Percentage of all cores busy over one second (/proc/stat), while nothing of ours runs: the load
# average is no use here, since a benchmark run itself keeps it near 2 for minutes.
machine_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
    printf "%.0f", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0
  }'
}
warn_if_busy() {
  [ "$1" -le 10 ] || note "warning: the machine was ${1}% busy $2 the run (other work);" \
    "requests/s and latency are unreliable, CPU per request less so"
}
