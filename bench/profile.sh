#!/usr/bin/env bash
# Where the CPU goes on a 3-node cluster under write load: starts three nodes on loopback with
# async-profiler (fetched from Maven Central: tools.profiler:async-profiler) sampling each JVM's
# CPU, drives PUTs of unique 128-byte values at node 1 with wrk, then prints writes/s, CPU time per
# write of each node (from /proc) and, per node, the share of samples by component. The collapsed
# stacks of the measured window stay in target/profile/ (one line per stack: feed them to any
# flame-graph tool). Every process it starts is stopped at the end.
#   PROFILE_WARMUP (s, default 40), PROFILE_DURATION (s, default 10), PROFILE_CONNECTIONS (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
. cluster-scripts/common.sh
. bench/lib.sh
WARMUP=${PROFILE_WARMUP:-40}
DUR=${PROFILE_DURATION:-10}
CONN=${PROFILE_CONNECTIONS:-256}
OUT="$ROOT/target/profile"
need wrk wrk
ensure_jar
AGENT="$ROOT/target/async-profiler/linux-x64/libasyncProfiler.so"
if [ ! -f "$AGENT" ]; then
  mvn -B -q dependency:copy -Dartifact=tools.profiler:async-profiler:4.1 -DoutputDirectory="$ROOT/target/async-profiler"
  (cd "$ROOT/target/async-profiler" && unzip -q -o async-profiler-4.1.jar 'linux-x64/*')
fi
rm -rf "$OUT" && mkdir -p "$OUT"

# The profiler writes a file of stacks every 2 s, named by its start time; those that lie inside
# the measured run are kept.
node_java_opts() { echo "-agentpath:$AGENT=start,event=itimer,interval=1ms,collapsed,loop=2s,file=$OUT/n$2-%t.collapsed"; }
start_scribe prof 3 18480
URL=http://127.0.0.1:18481
leader=$(curl -s "$URL/cluster/status" | json_field leaderId)
echo "leader: $leader (load goes to n1)"
wrk -t2 -c"$CONN" -d"${WARMUP}s" -s bench/lua/put-unique.lua "$URL" -- warm > /dev/null
ticks() { for pid in "${PIDS[@]}"; do awk '{printf "%d ", $14 + $15}' "/proc/$pid/stat"; done; }
before=($(ticks))
start=$(date +%s%N)
first=$(date -d "@$(( start / 1000000000 + 1 ))" +%Y%m%d-%H%M%S)
last=$(date -d "@$(( start / 1000000000 + DUR - 2 ))" +%Y%m%d-%H%M%S)
rps=$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s bench/lua/put-unique.lua "$URL" -- measured | awk '/Requests\/sec/ {printf "%.0f", $2}')
after=($(ticks))
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
stop_all

hz=$(getconf CLK_TCK)
echo "writes/s at $CONN connections: $rps"
for i in 1 2 3; do
  awk -v b="${before[$((i - 1))]}" -v a="${after[$((i - 1))]}" -v hz="$hz" -v ms="$elapsed_ms" -v rps="$rps" -v n="n$i" \
    'BEGIN { cpu = (a - b) / hz; printf "%s: %.0f%% of a core, %.0f us CPU per write\n", n, 100 * cpu * 1000 / ms, cpu * 1e6 / (rps * ms / 1000) }'
done
for i in 1 2 3; do
  f="$OUT/n$i-measured.collapsed"
  for chunk in "$OUT"/n$i-2*.collapsed; do
    ts=$(basename "$chunk" .collapsed); ts=${ts#n$i-}
    if [[ ! "$ts" < "$first" && ! "$ts" > "$last" ]]; then cat "$chunk" >> "$f"; fi
  done
  [ -s "$f" ] || { echo "n$i: no profile inside the measured run" >&2; continue; }
  awk -v node="n$i" '
    { n = $NF; total += n; line = $0
      if (line ~ /CompileBroker/) c["JIT compiler"] += n
      else if (line ~ /G1|GCTaskThread|ConcurrentGCThread/) c["GC"] += n
      else if (line ~ /LedgerIndex\$Flush|LedgerState.checkpoint/) c["checkpoint (MapDB flush, file syncs)"] += n
      else if (line ~ /StateMachineUpdater|applyTransaction/) c["apply"] += n
      else if (line ~ /SegmentedRaftLogWorker/) c["Raft log writes"] += n
      else if (line ~ /LogAppender/) c["Raft replication (leader)"] += n
      else if (line ~ /thirdparty\/io\/grpc|thirdparty\/io\/netty/) c["Raft gRPC transport"] += n
      else if (line ~ /io\/vertx\/core\/http|io\/netty\/channel|io\/vertx\/core\/eventbus/) c["HTTP and event bus"] += n
      else if (line ~ /org\/apache\/ratis/) c["other Ratis"] += n
      else c["other"] += n }
    END { printf "%s:", node; for (k in c) printf "  %s %.0f%%", k, 100 * c[k] / total; printf "\n" }' "$f"
done
echo "collapsed stacks: $OUT"
