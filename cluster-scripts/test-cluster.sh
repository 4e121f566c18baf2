#!/usr/bin/env sh
# Exercises a running local cluster and exits non-zero on any failure: writes through every node,
# reads every value back from every node, and compares the signed tree heads.
set -u
. "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
run=$(date +%s)
for i in $NODES; do
  for k in 1 2 3 4 5; do
    key="test-$run-n$i-$k"
    code=$(scurl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "value $key" \
      "$(base_url "$i")/kv/$key")
    [ "$code" = "201" ] || fail "PUT $key through n$i answered $code"
  done
done
for i in $NODES; do
  for w in $NODES; do
    for k in 1 2 3 4 5; do
      key="test-$run-n$w-$k"
      got=$(scurl -s "$(base_url "$i")/kv/$key")
      [ "$got" = "value $key" ] || fail "n$i serves '$got' for $key"
    done
  done
done
roots=""
for i in $NODES; do
  head=$(scurl -s "$(base_url "$i")/ledger/head")
  size=$(echo "$head" | json_field treeSize)
  root=$(echo "$head" | json_field rootHash)
  [ -n "$root" ] || fail "n$i has no tree head: $head"
  roots="$roots $size:$root"
done
[ "$(echo "$roots" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = "1" ] || fail "tree heads differ:$roots"
leader=$(scurl -s "$(base_url 1)/cluster/leader" | json_field leaderId)
[ -n "$leader" ] || fail "no leader"
echo "ok: 15 writes through 3 nodes, 45 reads, identical tree heads ($roots ), leader $leader"
