#!/usr/bin/env bash
# How long a restarted member takes to catch up (issue 10: within 3 s of serving HTTP). Per round:
# a fresh 3-node cluster on loopback, wrk PUTs of unique 128-byte values at 8 connections (20 s
# of warm-up, then on through the round), a member killed with SIGKILL, left down for a while and
# started again. Prints, per round: how long the restarted JVM took to serve HTTP, the Raft index
# it resumed at, how many entries it was behind the others' commit index at that moment, and how
# long after serving it had applied them. Stops everything it started.
#   CATCHUP_ROUNDS (default 3), CATCHUP_DOWN (seconds down, default 4), CATCHUP_CONNECTIONS
#   (default 8), CATCHUP_KILL (follower, the default, or leader), BENCH_JAR (another build's jar),
#   CATCHUP_CDS=1 (nodes start with the cluster scripts' class-data archive, built if missing;
#   without it no archive is used, so a leftover one cannot change the figures), CATCHUP_NICE
#   (e.g. 10: once the load starts, the members that stay up and wrk run at this nice level, so the
#   restarted member gets the CPU it asks for, as on machines of its own; on one small machine
#   shared by all, it otherwise competes for the cores with its peers' JIT and load)
set -euo pipefail
cd "$(dirname "$0")/.."
. cluster-scripts/common.sh
. bench/lib.sh
need wrk wrk
bench_jar
if [ "${CATCHUP_CDS:-0}" = 1 ]; then ensure_cds; else java_opts() { :; }; fi
ROUNDS=${CATCHUP_ROUNDS:-3}
DOWN=${CATCHUP_DOWN:-4}
CONN=${CATCHUP_CONNECTIONS:-8}
KILL=${CATCHUP_KILL:-follower}

status() { curl -s -m 2 "http://127.0.0.1:$(($1 + $2))/cluster/status"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

printf '%-6s %-9s %9s %11s %8s %13s %15s\n' round killed "serve ms" "resumed at" behind "caught up ms" \
  "from start ms"
for round in $(seq 1 "$ROUNDS"); do
  base=$((18600 + round * 10))
  start_scribe "c$round" 3 "$base"
  leader=$(status "$base" 1 | json_field leaderId)
  ln=${leader#n}
  if [ "$KILL" = leader ]; then victim=$ln; else victim=$((ln % 3 + 1)); fi
  target=$((victim % 3 + 1)) # load goes to a member that stays up
  url="http://127.0.0.1:$((base + target))"
  wrk -t2 -c"$CONN" -d20s -s bench/lua/put-unique.lua "$url" -- "warm$round" >/dev/null
  wrk -t2 -c"$CONN" -d$((DOWN + 40))s -s bench/lua/put-unique.lua "$url" -- "load$round" >/dev/null &
  load=$!
  if [ -n "${CATCHUP_NICE:-}" ]; then renice_threads "$CATCHUP_NICE" "${PIDS[@]}" "$load"; fi
  sleep 2
  kill -9 "${PIDS[$((victim - 1))]}"
  sleep "$DOWN"
  t0=$(date +%s%N)
  # shellcheck disable=SC2046
  java $(node_java_opts "c$round" "$victim") -jar "$JAR" -conf "$WORK/c$round-n$victim.json" \
    >"$WORK/c$round-n$victim-restarted.log" 2>&1 &
  PIDS[$((victim - 1))]=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((base + victim))/health")" = 200 ]; do
    [ "$(ms_since "$t0")" -lt 60000 ] || { echo "n$victim did not serve again" >&2; exit 1; }
    sleep 0.02
  done
  serve=$(ms_since "$t0")
  t1=$(date +%s%N)
  goal=$(status "$base" "$target" | json_field commitIndex)
  resumed=$(status "$base" "$victim" | json_field raftAppliedIndex)
  while :; do
    applied=$(status "$base" "$victim" | json_field raftAppliedIndex)
    [ "${applied:-0}" -ge "$goal" ] && break
    [ "$(ms_since "$t1")" -lt 60000 ] || { echo "n$victim did not catch up" >&2; exit 1; }
    sleep 0.02
  done
  printf '%-6s %-9s %9s %11s %8s %13s %15s\n' "$round" "n$victim $KILL" "$serve" "$resumed" \
    "$((goal - resumed))" "$(ms_since "$t1")" "$(ms_since "$t0")"
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true
  stop_all
done
