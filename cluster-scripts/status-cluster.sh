#!/usr/bin/env sh
# One line per node: role, term, leader, commit and applied index, or "down".
set -u
. "$(dirname "$0")/common.sh"
for i in $NODES; do
  s=$(scurl -s --max-time 2 "$(base_url "$i")/cluster/status") || s=""
  if [ -z "$s" ]; then
    echo "n$i  down"
  else
    echo "n$i  role=$(echo "$s" | json_field role) term=$(echo "$s" | json_field term)" \
      "leader=$(echo "$s" | json_field leaderId) commit=$(echo "$s" | json_field commitIndex)" \
      "applied=$(echo "$s" | json_field appliedIndex)"
  fi
done
