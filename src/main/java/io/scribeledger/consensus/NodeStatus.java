package io.scribeledger.consensus;

import java.util.List;

/** This node's view of the Raft group, read from Ratis. */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record NodeStatus(
    String nodeId,
    String role,
    long term,
    String leaderId,
    long commitIndex,
    long raftAppliedIndex,
    long appliedIndex,
    long segmentCount,
    List<Member> members,
    SnapshotStats snapshots,
    List<String> integrityProblems,
    byte[] publicKey) {

  /** A member of the current Raft configuration. */
  public record Member(String nodeId, String raftAddress, String httpAddress, boolean voter) {}

  /**
   * This status with what the ledger verticle adds: the last scrub's problems and the node's public
   * key.
   */
  public NodeStatus withIntegrity(List<String> problems, byte[] key) {
    return new NodeStatus(
        nodeId,
        role,
        term,
        leaderId,
        commitIndex,
        raftAppliedIndex,
        appliedIndex,
        segmentCount,
        members,
        snapshots,
        problems,
        key);
  }

  public boolean hasLeader() {
    return leaderId != null;
  }
}
