# Shared by the bench scripts (sourced, after cluster-scripts/common.sh): a scratch directory and the
# processes started, both cleaned up on exit; Debian tools installed on demand; fresh Scribe
# clusters on loopback.
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

need() { # $1 command, $2 Debian package
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null
}

# The jar to run: BENCH_JAR (another build's, to compare two) or this build's, built when missing.
bench_jar() {
  if [ -n "${BENCH_JAR:-}" ]; then JAR=$BENCH_JAR; else ensure_jar; fi
}

# JVM options of node $2 of cluster $1; a script redefines it to add its own (the profiler's agent).
node_java_opts() { java_opts; }

# start_scribe NAME NODES BASE: nodes n1..nNODES on HTTP BASE+i and Raft BASE+1000+i, data and logs
# under $WORK; returns once every node answers /health.
start_scribe() {
  local peers="" i
  for i in $(seq 1 "$2"); do
    peers="$peers{\"id\":\"n$i\",\"raftAddress\":\"127.0.0.1:$(($3 + 1000 + i))\",\"httpAddress\":\"127.0.0.1:$(($3 + i))\"},"
  done
  peers="[${peers%,}]"
  for i in $(seq 1 "$2"); do
    cat > "$WORK/$1-n$i.json" <<JSON
{"node":{"id":"n$i","dataDir":"$WORK/$1-data-n$i"},"http":{"host":"127.0.0.1","port":$(($3 + i))},
 "raft":{"host":"127.0.0.1","port":$(($3 + 1000 + i)),"peers":$peers}}
JSON
    # shellcheck disable=SC2046
    java $(node_java_opts "$1" "$i") -jar "$JAR" -conf "$WORK/$1-n$i.json" > "$WORK/$1-n$i.log" 2>&1 &
    PIDS+=($!)
  done
  for i in $(seq 1 "$2"); do
    wait_200 "http://127.0.0.1:$(($3 + i))/health" 60 || { echo "$1 n$i did not start" >&2; tail "$WORK/$1-n$i.log" >&2; exit 1; }
  done
}

# renice_threads NICE PID...: every thread of each process (renice -p reaches one thread only).
renice_threads() {
  local nice=$1 pid task
  shift
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*; do renice -n "$nice" -p "${task##*/}" >/dev/null 2>&1 || true; done
  done
}

# SIGTERM to everything started, then wait for it.
stop_all() {
  for pid in "${PIDS[@]:-}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
