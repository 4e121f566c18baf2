#!/usr/bin/env bash
# One command for the throughput comparison (issue 5): builds the jar, installs wrk and etcd 3.4 from
# Debian if missing, then on loopback drives a fresh 3-node Scribe cluster, a 1-node Scribe node and a
# 3-node etcd with the same wrk load shape (unique keys, 128-byte values) and prints one table:
# writes/s and p50/p99 at 1, 64 and 256 connections, linearizable and stale reads/s at 64
# connections, cluster formation and failover times, and the ratio Scribe/etcd per row.
# Every process it starts is stopped at the end. BENCH_DURATION (seconds per row, default 10);
# BENCH_WARMUP (seconds of writes and reads at 64 connections before a system's first row, default 120:
# three JVMs on two cores are still compiling hot paths after 40 s; production nodes run warm, and
# etcd gets the same).
set -euo pipefail
cd "$(dirname "$0")/.."
. cluster-scripts/common.sh
. bench/lib.sh
DUR=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-120}
export BENCH_LUA="$ROOT/bench/lua"
need wrk wrk
need etcd etcd-server
ensure_cds

to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } \
  else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } printf "%.1f", v }'; }

# run_wrk CONNECTIONS SCRIPT URL [ARG] -> "rps p50ms p99ms failures"
run_wrk() {
  local threads=2
  [ "$1" -lt 2 ] && threads=1
  local out
  out=$(wrk -t"$threads" -c"$1" -d"${DUR}s" --latency -s "$2" "$3" -- "${4:-}" 2>&1)
  local rps p50 p99 bad
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)
  bad=$(echo "$out" | awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}')
  echo "$rps $p50 $p99 $bad"
}

# start_prefilled NAME NODES BASE: a fresh cluster (bench/lib.sh) and the 1,000 keys the read rows get.
start_prefilled() {
  local i
  start_scribe "$@"
  for i in $(seq 0 999); do
    curl -s -o /dev/null -X PUT --data-binary "value-$i" "http://127.0.0.1:$(($3 + 1))/kv/read-$i"
  done
}

start_etcd() {
  local cluster="e1=http://127.0.0.1:22380,e2=http://127.0.0.1:22390,e3=http://127.0.0.1:22400" i
  for i in 1 2 3; do
    etcd --name "e$i" --data-dir "$WORK/etcd-$i" \
      --listen-client-urls "http://127.0.0.1:22${i}79" --advertise-client-urls "http://127.0.0.1:22${i}79" \
      --listen-peer-urls "http://127.0.0.1:22$(( 370 + i * 10 ))" --initial-advertise-peer-urls "http://127.0.0.1:22$(( 370 + i * 10 ))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token bench \
      > "$WORK/etcd-$i.log" 2>&1 &
    PIDS+=($!)
  done
  for i in 1 2 3; do
    wait_200 "http://127.0.0.1:22${i}79/health" 60 || { echo "etcd e$i did not start" >&2; tail "$WORK/etcd-$i.log" >&2; exit 1; }
  done
  for i in $(seq 0 999); do
    curl -s -o /dev/null -X POST -d "{\"key\":\"$(printf 'read-%s' "$i" | base64)\",\"value\":\"$(printf 'value-%s' "$i" | base64)\"}" \
      http://127.0.0.1:22179/v3/kv/put
  done
}

# warm SYSTEM URL: unmeasured writes then reads, the same shape as the rows.
warm() {
  [ "$WARMUP" -gt 0 ] || return 0
  local write=bench/lua/put-unique.lua read=bench/lua/get.lua
  if [ "$1" = etcd ]; then write=bench/lua/etcd-put.lua; read=bench/lua/etcd-range.lua; fi
  wrk -t2 -c64 -d"$((WARMUP * 3 / 4))s" -s "$write" "$2" -- "$1warm" > /dev/null 2>&1
  wrk -t2 -c64 -d"$((WARMUP / 4))s" -s "$read" "$2" > /dev/null 2>&1
}

declare -A R
measure() { # $1 system, $2 url
  local c
  warm "$1" "$2"
  for c in 1 64 256; do
    if [ "$1" = etcd ]; then R[$1,w$c]=$(run_wrk "$c" bench/lua/etcd-put.lua "$2" "w$c"); else R[$1,w$c]=$(run_wrk "$c" bench/lua/put-unique.lua "$2" "$1w$c"); fi
  done
  if [ "$1" = etcd ]; then
    R[$1,lin]=$(run_wrk 64 bench/lua/etcd-range.lua "$2")
    R[$1,stale]=$(run_wrk 64 bench/lua/etcd-range.lua "$2" serializable)
  else
    R[$1,lin]=$(run_wrk 64 bench/lua/get.lua "$2")
    R[$1,stale]=$(run_wrk 64 bench/lua/get.lua "$2" "consistency=stale")
    # Whether node 1 (which takes every request) led matters: a follower forwards writes and asks the leader per read barrier.
    R[$1,leader]=$(curl -s "$2/cluster/leader" | json_field leaderId)
  fi
}

echo "== Scribe, 3 nodes" >&2
start_prefilled s3 3 18280; measure s3 http://127.0.0.1:18281; stop_all
echo "== Scribe, 1 node" >&2
start_prefilled s1 1 18380; measure s1 http://127.0.0.1:18381; stop_all
echo "== etcd 3.4, 3 nodes" >&2
start_etcd; measure etcd http://127.0.0.1:22179; stop_all
echo "== formation and failover" >&2
timings=$(cluster-scripts/measure-timings.sh 2>&1 || true)

field() { echo "$1" | awk -v i="$2" '{print $i}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n%-34s %24s %24s %7s %24s\n' "row (${DUR}s each, loopback)" "Scribe 3 nodes" "etcd 3.4, 3 nodes" "ratio" "Scribe 1 node"
printf '%-34s %24s %24s %7s %24s\n' "" "req/s  p50/p99 ms  fail" "req/s  p50/p99 ms  fail" "" "req/s  p50/p99 ms  fail"
row() { # $1 label, $2 key
  local s="${R[s3,$2]}" e="${R[etcd,$2]}" o="${R[s1,$2]}"
  printf '%-34s %7s %7s/%-7s %3s %7s %7s/%-7s %3s %7s %7s %7s/%-7s %3s\n' "$1" \
    "$(field "$s" 1)" "$(field "$s" 2)" "$(field "$s" 3)" "$(field "$s" 4)" \
    "$(field "$e" 1)" "$(field "$e" 2)" "$(field "$e" 3)" "$(field "$e" 4)" \
    "$(ratio "$(field "$s" 1)" "$(field "$e" 1)")" \
    "$(field "$o" 1)" "$(field "$o" 2)" "$(field "$o" 3)" "$(field "$o" 4)"
}
row "writes, 1 connection" w1
row "writes, 64 connections" w64
row "writes, 256 connections" w256
row "linearizable reads, 64 conn." lin
row "stale reads, 64 connections" stale
echo
echo "Scribe 3 nodes: every request went to n1; the leader after the rows was ${R[s3,leader]:-unknown}"
echo "$timings" | grep -E "^(formation|failover)"
