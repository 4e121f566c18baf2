# Shared by the cluster scripts: where things are, and small helpers. Sourced, not run.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR="$ROOT/target/scribe-ledger.jar"
RUN="$ROOT/data/run"
NODES="1 2 3"

http_port() { echo $((8080 + $1)); }

ensure_jar() {
  if [ ! -f "$JAR" ]; then
    echo "building $JAR" >&2
    (cd "$ROOT" && mvn -B -q package -DskipTests) || exit 1
  fi
}

# Waits until a URL answers 200, up to $2 seconds.
wait_200() {
  deadline=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -le "$deadline" ]; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = "200" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Prints the first value of a JSON string or number field (the top-level one: the API puts it first).
json_field() {
  grep -o "\"$1\":\(\"[^\"]*\"\|[^,}]*\)" | head -n 1 | sed "s/^\"$1\"://; s/^\"//; s/\"\$//"
}
