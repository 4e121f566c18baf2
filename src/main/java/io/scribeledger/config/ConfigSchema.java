package io.scribeledger.config;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Every configuration key a node understands, with its default. */
public final class ConfigSchema {

  public static final List<ConfigKey> KEYS =
      List.of(
          new ConfigKey("node", "id", ConfigKey.Type.STRING, "n1"),
          new ConfigKey("node", "dataDir", ConfigKey.Type.STRING, null),
          // Signed into every tree head: give each cluster its own, so a head cannot be passed off
          // as another cluster's.
          new ConfigKey("node", "clusterId", ConfigKey.Type.STRING, "scribe-ledger"),
          // Loopback unless the operator says otherwise: a node on a network address needs TLS and
          // tokens
          // (or security.allowInsecure), one on loopback may run open.
          new ConfigKey("http", "host", ConfigKey.Type.STRING, "127.0.0.1"),
          new ConfigKey("http", "port", ConfigKey.Type.INT, 8080),
          // One per event loop (Vert.x starts two per core): 3-node stale reads measured ~10 % more
          // with 4
          // than with 2 on two cores, writes the same (docs/PERFORMANCE.md).
          new ConfigKey(
              "http",
              "instances",
              ConfigKey.Type.INT,
              Math.min(64, 2 * Runtime.getRuntime().availableProcessors())),
          new ConfigKey("http", "readTimeoutMs", ConfigKey.Type.LONG, 5000L),
          new ConfigKey("http", "maxConnections", ConfigKey.Type.INT, 4096),
          new ConfigKey("http", "idleTimeoutMs", ConfigKey.Type.LONG, 60_000L),
          // Request bodies being received plus writes waiting for their outcome: an eighth of the
          // heap (at least 32 MiB), since a write is copied a few times on its way through Raft.
          new ConfigKey(
              "http",
              "maxInFlightBytes",
              ConfigKey.Type.LONG,
              Math.max(32L << 20, Runtime.getRuntime().maxMemory() / 8)),
          new ConfigKey("raft", "host", ConfigKey.Type.STRING, "127.0.0.1"),
          new ConfigKey("raft", "port", ConfigKey.Type.INT, 9080),
          new ConfigKey("raft", "peers", ConfigKey.Type.ARRAY, null),
          new ConfigKey("raft", "electionTimeoutMinMs", ConfigKey.Type.LONG, 300L),
          new ConfigKey("raft", "electionTimeoutMaxMs", ConfigKey.Type.LONG, 600L),
          new ConfigKey("raft", "heartbeatIntervalMs", ConfigKey.Type.LONG, 100L),
          new ConfigKey("raft", "requestTimeoutMs", ConfigKey.Type.LONG, 5000L),
          new ConfigKey("raft", "snapshotEveryEntries", ConfigKey.Type.LONG, 10_000L),
          new ConfigKey("raft", "logSegmentSizeBytes", ConfigKey.Type.LONG, 64L * 1024 * 1024),
          new ConfigKey("raft", "batchMaxEntries", ConfigKey.Type.INT, 256),
          new ConfigKey("raft", "batchMaxBytes", ConfigKey.Type.LONG, 1024L * 1024),
          new ConfigKey("raft", "batchMaxInFlight", ConfigKey.Type.INT, 2),
          new ConfigKey("storage", "segmentSizeBytes", ConfigKey.Type.LONG, 64L * 1024 * 1024),
          new ConfigKey("storage", "segmentMaxAgeMs", ConfigKey.Type.LONG, 3_600_000L),
          new ConfigKey("storage", "commitEveryEntries", ConfigKey.Type.INT, 1000),
          new ConfigKey("storage", "commitIntervalMs", ConfigKey.Type.LONG, 250L),
          // Room for the largest value (16 MiB), its Raft log copy, a checkpoint and a snapshot's
          // metadata, with a wide margin: below it writes are refused before they reach Raft.
          new ConfigKey("storage", "minFreeBytes", ConfigKey.Type.LONG, 256L * 1024 * 1024),
          new ConfigKey("limits", "maxKeyBytes", ConfigKey.Type.INT, 1024),
          new ConfigKey("limits", "maxValueBytes", ConfigKey.Type.LONG, 16L * 1024 * 1024),
          new ConfigKey("limits", "maxContentTypeBytes", ConfigKey.Type.INT, 256),
          // 0 here; a node on a network address gets ConfigResolver's network rates unless it sets
          // its own, one on loopback (benchmarks, tests, one address) none (docs/SECURITY.md).
          new ConfigKey("rateLimit", "requestsPerSecond", ConfigKey.Type.LONG, 0L),
          new ConfigKey("rateLimit", "burstRequests", ConfigKey.Type.LONG, 0L),
          new ConfigKey("rateLimit", "bytesPerSecond", ConfigKey.Type.LONG, 0L),
          new ConfigKey("tls", "certFile", ConfigKey.Type.STRING, null),
          new ConfigKey("tls", "keyFile", ConfigKey.Type.STRING, null),
          new ConfigKey("tls", "caFile", ConfigKey.Type.STRING, null),
          new ConfigKey("security", "tokensFile", ConfigKey.Type.STRING, null),
          new ConfigKey("security", "allowInsecure", ConfigKey.Type.BOOLEAN, false),
          new ConfigKey("security", "signingKeyFile", ConfigKey.Type.STRING, null),
          // The S3 cold tier (docs/TIERING.md): off unless asked for; then bucket is required.
          new ConfigKey("tiering", "enabled", ConfigKey.Type.BOOLEAN, false),
          new ConfigKey("tiering", "endpoint", ConfigKey.Type.STRING, null),
          new ConfigKey("tiering", "region", ConfigKey.Type.STRING, "us-east-1"),
          new ConfigKey("tiering", "bucket", ConfigKey.Type.STRING, null),
          new ConfigKey("tiering", "prefix", ConfigKey.Type.STRING, "scribe-ledger"),
          new ConfigKey("tiering", "pathStyle", ConfigKey.Type.BOOLEAN, false),
          // Both or neither; without them the SDK's default chain finds credentials.
          new ConfigKey("tiering", "accessKeyId", ConfigKey.Type.STRING, null),
          new ConfigKey("tiering", "secretAccessKeyFile", ConfigKey.Type.STRING, null),
          new ConfigKey("tiering", "compression", ConfigKey.Type.STRING, "gzip"),
          new ConfigKey("tiering", "retainSegments", ConfigKey.Type.INT, 2),
          new ConfigKey("tiering", "retainAgeMs", ConfigKey.Type.LONG, 0L),
          new ConfigKey("tiering", "cacheBytes", ConfigKey.Type.LONG, 256L * 1024 * 1024),
          new ConfigKey("tiering", "uploadConcurrency", ConfigKey.Type.INT, 2),
          new ConfigKey("tiering", "intervalMs", ConfigKey.Type.LONG, 1000L),
          new ConfigKey("tiering", "partBytes", ConfigKey.Type.LONG, 8L * 1024 * 1024),
          new ConfigKey("tiering", "maxLagSegments", ConfigKey.Type.INT, 16),
          new ConfigKey("tiering", "maxLagAgeMs", ConfigKey.Type.LONG, 3_600_000L),
          // UDP failure detection (docs/OPERATIONS.md, "Discovery"): off unless asked for; then a
          // key file is required, since every packet is authenticated.
          new ConfigKey("discovery", "enabled", ConfigKey.Type.BOOLEAN, false),
          new ConfigKey("discovery", "host", ConfigKey.Type.STRING, "127.0.0.1"),
          // Where the others reach this node, sent in every packet; the bind host when unset.
          new ConfigKey("discovery", "advertiseHost", ConfigKey.Type.STRING, null),
          new ConfigKey("discovery", "port", ConfigKey.Type.INT, 7946),
          // host:port of members to announce to; the addresses other members learn come with them.
          new ConfigKey("discovery", "seeds", ConfigKey.Type.ARRAY, null),
          new ConfigKey("discovery", "keyFile", ConfigKey.Type.STRING, null),
          new ConfigKey("discovery", "intervalMs", ConfigKey.Type.LONG, 1000L),
          new ConfigKey("discovery", "probeTimeoutMs", ConfigKey.Type.LONG, 300L),
          new ConfigKey("discovery", "indirectProbes", ConfigKey.Type.INT, 3),
          new ConfigKey("discovery", "suspicionMinMs", ConfigKey.Type.LONG, 4000L),
          new ConfigKey("discovery", "suspicionMaxMs", ConfigKey.Type.LONG, 8000L),
          new ConfigKey("discovery", "maxClockSkewMs", ConfigKey.Type.LONG, 30_000L),
          // The leader adds a member discovery has seen alive this long, and Raft has not: off
          // unless asked for (anyone holding the discovery key could then join the group).
          new ConfigKey("discovery", "autoJoin", ConfigKey.Type.BOOLEAN, false),
          new ConfigKey("discovery", "autoJoinAfterMs", ConfigKey.Type.LONG, 5000L));

  public static final Set<String> SECTIONS =
      KEYS.stream().map(ConfigKey::section).collect(Collectors.toUnmodifiableSet());

  private ConfigSchema() {}

  public static Optional<ConfigKey> find(String section, String name) {
    return KEYS.stream()
        .filter(k -> k.section().equals(section) && k.name().equals(name))
        .findFirst();
  }
}
