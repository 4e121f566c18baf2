#!/usr/bin/env sh
# Starts the local 3-node cluster (conf/node1..3.json: HTTP 8081-8083, Raft 9081-9083, data under data/)
# and waits until every node knows the leader.
#   --tls  HTTPS, API tokens and mutual TLS on Raft: makes a CA, node certificates and an admin token
#          under data/tls on first use (docs/SECURITY.md); the other scripts then use them too.
set -eu
. "$(dirname "$0")/common.sh"
ensure_cds
mkdir -p "$RUN"
cd "$ROOT"
if [ "${1:-}" = "--tls" ]; then
  if [ ! -f "$TLS_DIR/tokens.json" ]; then
    sh "$ROOT/cluster-scripts/make-certs.sh" "$TLS_DIR" n1 n2 n3 >/dev/null
    ( umask 077
      "$ROOT/bin/scribe" token --name ops --role admin > "$TLS_DIR/ops.new"
      head -n 1 "$TLS_DIR/ops.new" > "$TLS_DIR/admin.token"
      printf 'Authorization: Bearer %s\n' "$(cat "$TLS_DIR/admin.token")" > "$TLS_DIR/auth.header"
      printf '{"tokens":[%s]}\n' "$(sed -n 2p "$TLS_DIR/ops.new")" > "$TLS_DIR/tokens.json"
      rm -f "$TLS_DIR/ops.new" )
    echo "made the CA, node certificates and an admin token (file: $TLS_DIR/admin.token) under $TLS_DIR"
  fi
  touch "$TLS_DIR/on"
elif tls_on; then
  rm -f "$TLS_DIR/on"
fi
# The shared key that authenticates discovery datagrams (conf/node*.json name it): made once.
if [ ! -f "$ROOT/data/discovery.keys" ]; then
  ( umask 077
    mkdir -p "$ROOT/data"
    printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" > "$ROOT/data/discovery.keys" )
  echo "made the discovery key in data/discovery.keys"
fi
for i in $NODES; do
  if [ -f "$RUN/n$i.pid" ] && kill -0 "$(cat "$RUN/n$i.pid")" 2>/dev/null; then
    echo "n$i already running (pid $(cat "$RUN/n$i.pid"))"
    continue
  fi
  if tls_on; then
    SCRIBE_TLS_CERT_FILE="$TLS_DIR/n$i.pem" SCRIBE_TLS_KEY_FILE="$TLS_DIR/n$i-key.pem" \
      SCRIBE_TLS_CA_FILE="$TLS_DIR/ca.pem" SCRIBE_SECURITY_TOKENS_FILE="$TLS_DIR/tokens.json" \
      nohup java $(java_opts) -jar "$JAR" -conf "conf/node$i.json" > "$RUN/n$i.log" 2>&1 &
  else
    nohup java $(java_opts) -jar "$JAR" -conf "conf/node$i.json" > "$RUN/n$i.log" 2>&1 &
  fi
  echo $! > "$RUN/n$i.pid"
  echo "started n$i (pid $!), log $RUN/n$i.log"
done
for i in $NODES; do
  if ! wait_200 "$(base_url "$i")/health" 30; then
    echo "n$i did not report a leader within 30 s; see $RUN/n$i.log" >&2
    exit 1
  fi
done
echo "cluster up; leader: $(scurl -s "$(base_url 1)/cluster/leader" | json_field leaderId)"
# Discovery needs a few rounds to see everyone: wait until n1 sees no member in another state.
for _ in $(seq 1 50); do
  members=$(scurl -s "$(base_url 1)/cluster/members")
  echo "$members" | grep -q '"status":"\(suspect\|down\|unknown\)"' || break
  sleep 0.1
done
sh "$ROOT/cluster-scripts/status-cluster.sh"
