#!/usr/bin/env sh
# Stops the local cluster: SIGTERM, then SIGKILL for any node still running after 20 s.
set -u
. "$(dirname "$0")/common.sh"
for i in $NODES; do
  pidfile="$RUN/n$i.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 200 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      echo "n$i did not stop within 20 s; killing it"
      kill -KILL "$pid"
    fi
    echo "stopped n$i"
  fi
  rm -f "$pidfile"
done
