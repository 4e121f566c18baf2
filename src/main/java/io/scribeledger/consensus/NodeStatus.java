package io.scribeledger.consensus;

import java.util.List;

/** This node's view of the Raft group, read from Ratis. */
public record NodeStatus(String nodeId, String role, long term, String leaderId, long commitIndex,
                         long raftAppliedIndex, long appliedIndex, long segmentCount, List<Member> members) {

  /** A member of the current Raft configuration. */
  public record Member(String nodeId, String raftAddress, String httpAddress, boolean voter) {
  }

  public boolean hasLeader() {
    return leaderId != null;
  }
}
