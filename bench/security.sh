#!/usr/bin/env bash
# What security costs (issue 11): one node on loopback three ways — open (plain HTTP, no token),
# tokens (plain HTTP, every request with a bearer token: one SHA-256 and a lookup), and HTTPS +
# tokens (+ Raft mTLS) — driven by wrk at 64 connections: stale reads of 1,000 prefilled keys and
# writes of unique keys (128-byte values). Prints requests/s and p99 per row. BENCH_DURATION (s per
# row, default 10), BENCH_WARMUP (s of mixed load before each mode's rows, default 20). Needs wrk
# and openssl (installed from Debian when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
. cluster-scripts/common.sh
. bench/lib.sh
DUR=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-20}
need wrk wrk
need openssl openssl
ensure_jar
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
sh cluster-scripts/make-certs.sh "$work/certs" n1 >/dev/null
"$ROOT/bin/scribe" token --name bench --role writer > "$work/token"
printf '{"tokens":[%s]}\n' "$(sed -n 2p "$work/token")" > "$work/tokens.json"
printf 'Authorization: Bearer %s' "$(head -n 1 "$work/token")" > "$work/header"
port=18480
printf '%-16s %12s %10s %12s %10s\n' mode "reads/s" "p99" "writes/s" "p99"
for mode in open tokens https+tokens; do
  env=(SCRIBE_NODE_DATA_DIR="$work/data-$mode" SCRIBE_HTTP_PORT=$port SCRIBE_RAFT_PORT=$((port + 1)))
  scheme=http; hdr=()
  if [ "$mode" != open ]; then
    env+=(SCRIBE_SECURITY_TOKENS_FILE="$work/tokens.json"); hdr=(-H "$(cat "$work/header")")
  fi
  if [ "$mode" = https+tokens ]; then
    env+=(SCRIBE_TLS_CERT_FILE="$work/certs/n1.pem" SCRIBE_TLS_KEY_FILE="$work/certs/n1-key.pem"
      SCRIBE_TLS_CA_FILE="$work/certs/ca.pem")
    scheme=https
  fi
  env "${env[@]}" java $(java_opts) -jar "$JAR" -conf conf/node.json > "$work/$mode.log" 2>&1 &
  pid=$!
  url="$scheme://127.0.0.1:$port"
  deadline=$(( $(date +%s) + 60 ))
  until [ "$(curl -sk -o /dev/null -w '%{http_code}' "$url/health")" = 200 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$mode: node did not start; $work/$mode.log" >&2; exit 1; }
    sleep 0.2
  done
  for i in $(seq 0 999); do
    curl -sk -o /dev/null ${hdr:+-H "$(cat "$work/header")"} -X PUT --data-binary "value $i" "$url/kv/read-$i"
  done
  wrk -t2 -c64 -d"${WARMUP}s" "${hdr[@]}" -s bench/lua/put-unique.lua "$url" -- "warm-$mode" >/dev/null 2>&1
  r=$(wrk -t2 -c64 -d"${DUR}s" --latency "${hdr[@]}" -s bench/lua/get.lua "$url" -- consistency=stale)
  w=$(wrk -t2 -c64 -d"${DUR}s" --latency "${hdr[@]}" -s bench/lua/put-unique.lua "$url" -- "run-$mode")
  rps() { echo "$1" | awk '/Requests\/sec/ {print int($2)}'; }
  p99() { echo "$1" | awk '$1 == "99%" {print $2}'; }
  printf '%-16s %12s %10s %12s %10s\n' "$mode" "$(rps "$r")" "$(p99 "$r")" "$(rps "$w")" "$(p99 "$w")"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  port=$((port + 10))
done
