#!/usr/bin/env bash
# The cold tier's benchmark (bench/TierBench.java) against the embedded S3 server: builds the test
# classpath (the node, S3Proxy and the test support classes), then prints writes/s with tiering off
# and on, seal-to-archived time and upload MB/s, the first read of an evicted 64 MiB segment, and
# scribe restore's time per GB. Args: [LEDGER_MIB (256)] [WRITE_SECONDS (20)]. Needs ~2 GB of disk in
# the temporary directory, which it removes.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/test-classpath.txt
exec java -Xmx2g -cp "target/classes:target/test-classes:$(cat target/test-classpath.txt)" \
  bench/TierBench.java "$@"
