package io.scribeledger.config;

import java.nio.file.Path;
import java.util.List;

/** A validated node configuration. */
public record NodeConfig(Node node, Http http, Raft raft, Storage storage, Limits limits) {

  /** Identity and data directory of this node. */
  public record Node(String id, Path dataDir) {}

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

  /** Input limits enforced before anything is written. */
  public record Limits(int maxKeyBytes, long maxValueBytes, int maxContentTypeBytes) {}

  /** This node's Raft address, {@code host:port}. */
  public String raftAddress() {
    return raft.host() + ":" + raft.port();
  }

  /** This node's HTTP address as peers should reach it. */
  public String httpAddress() {
    String host = "0.0.0.0".equals(http.host()) ? raft.host() : http.host();
    return host + ":" + http.port();
  }
}
