#!/usr/bin/env sh
# Starts the local 3-node cluster (conf/node1..3.json: HTTP 8081-8083, Raft 9081-9083, data under data/)
# and waits until every node knows the leader.
set -eu
. "$(dirname "$0")/common.sh"
ensure_cds
mkdir -p "$RUN"
cd "$ROOT"
for i in $NODES; do
  if [ -f "$RUN/n$i.pid" ] && kill -0 "$(cat "$RUN/n$i.pid")" 2>/dev/null; then
    echo "n$i already running (pid $(cat "$RUN/n$i.pid"))"
    continue
  fi
  nohup java $(java_opts) -jar "$JAR" -conf "conf/node$i.json" > "$RUN/n$i.log" 2>&1 &
  echo $! > "$RUN/n$i.pid"
  echo "started n$i (pid $!), log $RUN/n$i.log"
done
for i in $NODES; do
  if ! wait_200 "http://127.0.0.1:$(http_port "$i")/health" 30; then
    echo "n$i did not report a leader within 30 s; see $RUN/n$i.log" >&2
    exit 1
  fi
done
echo "cluster up; leader: $(curl -s http://127.0.0.1:8081/cluster/leader | json_field leaderId)"
