#!/usr/bin/env sh
# Makes a private CA and one certificate per node for TLS: HTTPS for the API and mutual TLS for Raft.
#
#   cluster-scripts/make-certs.sh <dir> [node ...]      (nodes default to n1 n2 n3)
#
# Writes <dir>/ca.pem and <dir>/ca-key.pem (keep the CA key offline: whoever holds it can mint members),
# and for each node <dir>/<node>.pem (certificate) and <dir>/<node>-key.pem (PKCS#8 key, mode 600).
# An existing CA in <dir> is reused, so nodes can be added later. Each certificate names the node,
# localhost and 127.0.0.1, plus whatever SCRIBE_CERT_SANS adds (e.g.
# "DNS:*.scribe-ledger.default.svc.cluster.local,DNS:scribe.example.com"). Valid SCRIBE_CERT_DAYS days
# (default 825). Needs openssl 1.1.1 or later.
set -eu
if [ $# -lt 1 ]; then
  echo "usage: $0 <dir> [node ...]" >&2
  exit 2
fi
dir=$1
shift
[ $# -gt 0 ] || set -- n1 n2 n3
days=${SCRIBE_CERT_DAYS:-825}
command -v openssl >/dev/null 2>&1 || { echo "openssl is needed (apt-get install openssl)" >&2; exit 2; }
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca-key.pem" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca-key.pem" -sha256 -days "$days" -subj "/CN=Scribe Ledger cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem"
  chmod 644 "$dir/ca.pem"
  echo "made CA $dir/ca.pem"
fi
for node in "$@"; do
  sans="DNS:$node,DNS:localhost,IP:127.0.0.1,IP:::1"
  [ -z "${SCRIBE_CERT_SANS:-}" ] || sans="$sans,$SCRIBE_CERT_SANS"
  ext=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=$sans" > "$ext"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$node-key.pem" 2>/dev/null
  openssl req -new -key "$dir/$node-key.pem" -subj "/CN=$node" -out "$dir/$node.csr"
  openssl x509 -req -in "$dir/$node.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days "$days" -sha256 -extfile "$ext" -out "$dir/$node.pem" 2>/dev/null
  rm -f "$ext" "$dir/$node.csr"
  chmod 644 "$dir/$node.pem"
  echo "made $dir/$node.pem and $dir/$node-key.pem ($sans)"
done
