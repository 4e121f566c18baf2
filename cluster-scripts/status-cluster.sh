#!/usr/bin/env sh
# One line per node: role, term, leader, commit and applied index, or "down"; then the members as
# the first node that answers sees them: discovery status, Raft role, incarnation, suspecters.
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
for i in $NODES; do
  m=$(scurl -s --max-time 2 "$(base_url "$i")/cluster/members") || continue
  echo "members as n$i sees them:"
  printf '  %-6s %-8s %-9s %-15s %s\n' node status role incarnation suspectedBy
  echo "$m" | sed 's/^{"members":\[//; s/\]}$//; s/},{/}\n{/g' | while read -r member; do
    printf '  %-6s %-8s %-9s %-15s %s\n' "$(echo "$member" | json_field nodeId)" \
      "$(echo "$member" | json_field status)" "$(echo "$member" | json_field role)" \
      "$(echo "$member" | json_field incarnation)" "$(echo "$member" | json_field suspectedBy)"
  done
  break
done
