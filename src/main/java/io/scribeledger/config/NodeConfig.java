package io.scribeledger.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A validated node configuration. */
public record NodeConfig(
    Node node,
    Http http,
    Raft raft,
    Storage storage,
    Limits limits,
    RateLimit rateLimit,
    Security security,
    Tiering tiering,
    Discovery discovery) {

  /**
   * Identity and data directory of this node, and the id of the cluster it belongs to (signed into
   * every tree head).
   */
  public record Node(String id, Path dataDir, String clusterId) {}

  /** Where the HTTP API listens. */
  public record Http(
      String host,
      int port,
      int instances,
      long readTimeoutMs,
      int maxConnections,
      long idleTimeoutMs,
      long maxInFlightBytes) {}

  /** Raft endpoint, bootstrap peers and timeouts. */
  public record Raft(
      String host,
      int port,
      List<Peer> peers,
      long electionTimeoutMinMs,
      long electionTimeoutMaxMs,
      long heartbeatIntervalMs,
      long requestTimeoutMs,
      long snapshotEveryEntries,
      long logSegmentSizeBytes,
      Batching batching) {}

  /**
   * Group commit: how many writes and bytes one Raft entry may carry, and how many may be pending.
   */
  public record Batching(int maxEntries, long maxBytes, int maxInFlight) {}

  /** A bootstrap member of the Raft group. */
  public record Peer(String id, String raftAddress, String httpAddress) {}

  /** Segment files and MapDB commit policy. */
  public record Storage(
      long segmentSizeBytes,
      long segmentMaxAgeMs,
      int commitEveryEntries,
      long commitIntervalMs,
      long minFreeBytes) {}

  /**
   * Per-caller rates (a token, or a client address when there is none); 0 turns a rate off.
   * Requests beyond a rate get 429 {@code rate_limited} with {@code Retry-After}.
   */
  public record RateLimit(long requestsPerSecond, long burstRequests, long bytesPerSecond) {

    public boolean enabled() {
      return requestsPerSecond > 0 || bytesPerSecond > 0;
    }
  }

  /** Input limits enforced before anything is written. */
  public record Limits(int maxKeyBytes, long maxValueBytes, int maxContentTypeBytes) {}

  /**
   * Who may call this node: TLS material (HTTPS for the API, mutual TLS for Raft), the API tokens
   * file, and the operator's explicit choice to run open on a network address.
   */
  public record Security(
      Optional<Tls> tls,
      Optional<Path> tokensFile,
      boolean allowInsecure,
      Optional<Path> signingKeyFile) {

    /** Whether requests must carry a token. */
    public boolean tokensRequired() {
      return tokensFile.isPresent();
    }
  }

  /**
   * PEM files: this node's certificate chain and PKCS#8 private key, and the CA certificate that
   * signs every member (Raft peers must present a certificate it signed).
   */
  public record Tls(Path certFile, Path keyFile, Path caFile) {}

  /**
   * The S3 cold tier (docs/TIERING.md): where sealed segments are archived, how they are
   * compressed, how many stay on this node's disk, and when the archive's lag makes the node
   * degraded. {@code credentials} empty means the SDK's default chain.
   */
  public record Tiering(
      boolean enabled,
      Optional<java.net.URI> endpoint,
      String region,
      String bucket,
      String prefix,
      boolean pathStyle,
      Optional<Credentials> credentials,
      String compression,
      int retainSegments,
      long retainAgeMs,
      long cacheBytes,
      int uploadConcurrency,
      long intervalMs,
      long partBytes,
      int maxLagSegments,
      long maxLagAgeMs) {}

  /**
   * Explicit S3 credentials: the key id, and the file holding the secret (read when the client is
   * built, never logged).
   */
  public record Credentials(String accessKeyId, Path secretAccessKeyFile) {}

  /**
   * UDP failure detection (SWIM with Lifeguard's refinements): where this node listens, whom it
   * announces itself to, the key file that authenticates every packet, and the timings.
   */
  public record Discovery(
      boolean enabled,
      String host,
      String advertiseHost,
      int port,
      List<String> seeds,
      Optional<Path> keyFile,
      long intervalMs,
      long probeTimeoutMs,
      int indirectProbes,
      long suspicionMinMs,
      long suspicionMaxMs,
      long maxClockSkewMs,
      boolean autoJoin,
      long autoJoinAfterMs) {

    /** This node's discovery address as others reach it. */
    public String address() {
      return advertiseHost + ":" + port;
    }
  }

  /** This node's Raft address, {@code host:port}. */
  public String raftAddress() {
    return raft.host() + ":" + raft.port();
  }

  /**
   * Where this node's own Raft client reaches its server when it has no peers: the bind address, or
   * loopback when that is the wildcard (a TLS client checks the name it dials against the server's
   * certificate, and no certificate names 0.0.0.0).
   */
  public String selfRaftAddress() {
    return ("0.0.0.0".equals(raft.host()) || "::".equals(raft.host()) ? "127.0.0.1" : raft.host())
        + ":"
        + raft.port();
  }

  /** This node's HTTP address as peers should reach it. */
  public String httpAddress() {
    String host = "0.0.0.0".equals(http.host()) ? raft.host() : http.host();
    return host + ":" + http.port();
  }
}
