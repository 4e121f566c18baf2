package io.scribeledger.consensus;

import java.util.List;
import java.util.Optional;

/**
 * This node's view of the Raft group, read from Ratis. {@code leaderSilentMs} is how long ago a
 * follower last heard from its leader (0 on the leader, -1 when unknown). {@code failure} is null
 * unless the node failed stop, {@code restoring} null unless a snapshot restore is rebuilding its
 * state, and {@code diskProblem} null unless free space is below the floor.
 */
// Hashes and bytes: compared by content where it matters, never by record equality.
@SuppressWarnings("ArrayRecordComponent")
public record NodeStatus(
    String nodeId,
    String role,
    long term,
    String leaderId,
    long commitIndex,
    long leaderCommitIndex,
    long leaderSilentMs,
    long raftAppliedIndex,
    long appliedIndex,
    long segmentCount,
    List<Member> members,
    SnapshotStats snapshots,
    List<String> integrityProblems,
    byte[] publicKey,
    String failure,
    String restoring,
    String diskProblem) {

  /**
   * A Raft member: its addresses, whether it votes, its signing key as replicated (base64 X.509;
   * null until it registered one), and its Raft match index as this node knows it (-1 when not).
   */
  public record Member(
      String nodeId,
      String raftAddress,
      String httpAddress,
      boolean voter,
      String publicKey,
      long matchIndex) {}

  /**
   * This status with what the ledger verticle adds: the last scrub's problems, the node's public
   * key, and why writes are refused for lack of disk space (null when they are not).
   */
  public NodeStatus withNodeChecks(List<String> problems, byte[] key, String disk) {
    return new NodeStatus(
        nodeId,
        role,
        term,
        leaderId,
        commitIndex,
        leaderCommitIndex,
        leaderSilentMs,
        raftAppliedIndex,
        appliedIndex,
        segmentCount,
        members,
        snapshots,
        problems,
        key,
        failure,
        restoring,
        disk);
  }

  /**
   * Raft entries this node may trail its commit index by and still be ready: further behind (a
   * replay after a restart, a snapshot install) it would answer linearizable reads only after
   * catching up.
   */
  public static final long READY_MAX_APPLY_LAG = 100;

  /**
   * How long a follower may go without hearing from its leader (which sends at least a heartbeat
   * every half election timeout) and still trust the leader's commit index it last heard.
   */
  public static final long READY_MAX_LEADER_SILENCE_MS = 1000;

  /**
   * Why this node should not take traffic now, or empty when it is ready: failed, restoring a
   * snapshot, no leader known, nothing heard from the leader yet, applying far behind the leader's
   * commit index (a follower's own commit index cannot show that after a restart), or no disk space
   * for writes.
   */
  public Optional<String> notReady() {
    if (failed()) {
      return Optional.of("failed: " + failure);
    }
    if (restoring != null) {
      return Optional.of(restoring);
    }
    if (!hasLeader()) {
      return Optional.of("no leader known");
    }
    if (leaderCommitIndex < 0) {
      return Optional.of("the leader's commit index is not known yet (nothing heard from it)");
    }
    if (leaderSilentMs > READY_MAX_LEADER_SILENCE_MS) {
      // After a pause (SIGSTOP, a long GC) the commit index last heard is as old as the pause, so
      // the lag below would look small while this node is far behind.
      return Optional.of(
          "nothing heard from the leader for "
              + leaderSilentMs
              + " ms: the commit index known here may be stale");
    }
    long target = Math.max(commitIndex, leaderCommitIndex);
    if (target - raftAppliedIndex > READY_MAX_APPLY_LAG) {
      return Optional.of(
          "applying behind the leader (" + raftAppliedIndex + " of " + target + " Raft entries)");
    }
    return Optional.ofNullable(diskProblem);
  }

  /** Whether this node failed stop ({@link #failure} then says where and why). */
  public boolean failed() {
    return failure != null;
  }

  public boolean hasLeader() {
    return leaderId != null;
  }
}
