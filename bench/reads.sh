#!/usr/bin/env bash
# Linearizable reads on the leader and on a follower of a fresh 3-node cluster on loopback: wrk GETs
# of 1,000 prefilled keys at 64 connections, each node in turn, two rounds; prints reads/s and
# p50/p99 per row and which node led. A follower's barrier asks the leader (ARCHITECTURE.md,
# "Reads"), so the two rows differ by that round trip. BENCH_JAR (default: the build's jar, built
# when missing), BENCH_DURATION (seconds per row, default 10), BENCH_WARMUP (seconds of reads on
# each node before the rows, default 30). Every process it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. cluster-scripts/common.sh
. bench/lib.sh
need wrk wrk
bench_jar
DUR=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-30}
BASE=18480

start_scribe r 3 "$BASE"
for i in $(seq 0 999); do
  curl -s -o /dev/null -X PUT --data-binary "value-$i" "http://127.0.0.1:$((BASE + 1))/kv/read-$i"
done
leader=$(curl -s "http://127.0.0.1:$((BASE + 1))/cluster/leader" | json_field leaderId)
ln=${leader#n}
fn=$((ln % 3 + 1))
for n in "$fn" "$ln"; do
  wrk -t2 -c64 -d"${WARMUP}s" -s bench/lua/get.lua "http://127.0.0.1:$((BASE + n))" >/dev/null
done
printf '%-22s %10s %9s %9s %8s\n' "row (${DUR}s, 64 conn.)" "reads/s" "p50" "p99" "non-2xx"
for round in 1 2; do
  for n in "$fn" "$ln"; do
    role=follower
    [ "$n" = "$ln" ] && role=leader
    out=$(wrk -t2 -c64 -d"${DUR}s" --latency -s bench/lua/get.lua "http://127.0.0.1:$((BASE + n))" 2>&1)
    printf '%-22s %10s %9s %9s %8s\n' "round $round, n$n $role" \
      "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
      "$(echo "$out" | awk '$1 == "50%" {print $2}')" \
      "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
      "$(echo "$out" | awk '/Non-2xx/ {n += $NF} END {print n + 0}')"
  done
done
echo "leader before the rows: n$ln; after: $(curl -s "http://127.0.0.1:$((BASE + 1))/cluster/leader" | json_field leaderId)"
stop_all
