package io.scribeledger.consensus;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.scribeledger.error.LedgerException;
import io.scribeledger.ledger.HeadCheck;
import io.scribeledger.ledger.Proposal;
import io.scribeledger.ledger.WriteOutcome;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft group's membership, asked of this member: a newcomer added as a listener (after a
 * snapshot and a head check on the leader) and promoted to voter once caught up, a member removed
 * (its leadership moved off first, the leader told so that its reads wait), this leader's own
 * handover, and where a member stands. Changes are Raft configuration changes or leadership
 * transfers; every call blocks.
 */
public final class GroupMembership {

  private static final Logger LOG = LoggerFactory.getLogger(GroupMembership.class);

  private final NodeConfig config;
  private final RaftPeerId selfId;
  private final RaftServer server;
  private final Supplier<RaftClient> client;
  private final Supplier<String> leaderId;

  /** Told before this node has leadership moved off itself. */
  private final LinearizableReads reads;

  /** Proposes a replicated record in order with the writes (the head check before an add). */
  private final Function<Proposal, CompletableFuture<WriteOutcome>> record;

  GroupMembership(
      NodeConfig config,
      RaftServer server,
      Supplier<RaftClient> client,
      Supplier<String> leaderId,
      LinearizableReads reads,
      Function<Proposal, CompletableFuture<WriteOutcome>> record) {
    this.config = config;
    this.selfId = RaftPeerId.valueOf(config.node().id());
    this.server = server;
    this.client = client;
    this.leaderId = leaderId;
    this.reads = reads;
    this.record = record;
  }

  /** Whether {@code nodeId} is a voter, a listener (non-voting), or not a member. */
  public enum Membership {
    VOTER,
    LISTENER,
    NONE
  }

  public Membership membership(String nodeId) throws IOException {
    RaftServer.Division division = server.getDivision(RaftSettings.GROUP_ID);
    RaftPeerId id = RaftPeerId.valueOf(nodeId);
    if (division.getRaftConf().getCurrentPeers(RaftPeerRole.FOLLOWER).stream()
        .anyMatch(p -> p.getId().equals(id))) {
      return Membership.VOTER;
    }
    return division.getRaftConf().getCurrentPeers(RaftPeerRole.LISTENER).stream()
            .anyMatch(p -> p.getId().equals(id))
        ? Membership.LISTENER
        : Membership.NONE;
  }

  /**
   * A member's commit index as the leader tracks it from that member's Raft replies, beside the
   * leader's own commit index, from one reply of the leader.
   */
  public record CatchUp(long memberCommit, long leaderCommit) {}

  /**
   * Where {@code nodeId} stands as the leader sees it (empty when no leader is known or the leader
   * does not replicate to that node). Asked of the leader over the Raft admin API, never of the
   * node itself. Blocking.
   */
  public Optional<CatchUp> catchUp(String nodeId) throws IOException {
    String leader = leaderId.get();
    if (leader == null) {
      return Optional.empty();
    }
    GroupInfoReply info =
        client.get().getGroupManagementApi(RaftPeerId.valueOf(leader)).info(RaftSettings.GROUP_ID);
    OptionalLong member = commitOf(info.getCommitInfos(), nodeId);
    OptionalLong own = commitOf(info.getCommitInfos(), leader);
    return member.isPresent() && own.isPresent()
        ? Optional.of(new CatchUp(member.getAsLong(), own.getAsLong()))
        : Optional.empty();
  }

  static OptionalLong commitOf(
      java.util.Collection<RaftProtos.CommitInfoProto> infos, String nodeId) {
    return infos.stream()
        .filter(c -> c.getServer().getId().toStringUtf8().equals(nodeId))
        .mapToLong(RaftProtos.CommitInfoProto::getCommitIndex)
        .findFirst();
  }

  /**
   * Adds {@code nodeId} as a listener: it receives the log (or a snapshot) but does not vote, so a
   * slow newcomer cannot stall commits. Blocking (a Raft configuration change).
   */
  public void addListener(String nodeId, String raftAddress) throws IOException {
    snapshotOnLeader("add " + nodeId);
    checkHeadBefore("add " + nodeId);
    List<RaftPeer> voters = currentPeers(RaftPeerRole.FOLLOWER);
    List<RaftPeer> listeners = currentPeers(RaftPeerRole.LISTENER);
    listeners.removeIf(p -> p.getId().toString().equals(nodeId));
    listeners.add(
        RaftPeer.newBuilder()
            .setId(nodeId)
            .setAddress(raftAddress)
            .setStartupRole(RaftPeerRole.LISTENER)
            .build());
    setConfiguration(voters, listeners, "add " + nodeId + " as a listener");
  }

  /**
   * Has the leader take a snapshot before a new member is added: Ratis sends a new member the
   * leader's latest snapshot first and the log after it, but without one the log alone, which after
   * a restore from an archive begins after the restored entries (the member would fork). Cheap
   * here: a commit and hard links, whatever the ledger's size.
   */
  private void snapshotOnLeader(String what) throws IOException {
    RaftClientReply reply =
        client.get().getSnapshotManagementApi().create(true, config.raft().requestTimeoutMs());
    if (!reply.isSuccess()) {
      throw ErrorCode.UNAVAILABLE.error(
          "could not "
              + what
              + ": the leader could not take the snapshot a new member starts from: "
              + reply.getException());
    }
  }

  /**
   * Puts the leader's head into the log before a new member's configuration: the member confirms it
   * holds the group's tree as soon as it has caught up to there, or stops (see {@link HeadCheck}),
   * even if it received the log without the snapshot just taken (leadership moved in between).
   */
  private void checkHeadBefore(String what) throws IOException {
    WriteOutcome outcome;
    try {
      outcome =
          record
              .apply(HeadCheck.toFill())
              .get(config.raft().requestTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted: " + what);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof LedgerException refused) {
        throw refused; // no leader, insufficient storage, outcome unknown: as the leader said
      }
      throw ErrorCode.UNAVAILABLE.error(
          "could not " + what + ": the leader's head check failed: " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw ErrorCode.TIMEOUT.error(
          "could not " + what + ": the leader's head check did not commit in time");
    }
    if (!(outcome instanceof WriteOutcome.HeadConfirmed)) {
      // A leader of an older version refuses the entry it cannot decode.
      throw ErrorCode.UNAVAILABLE.error(
          "could not " + what + ": the leader did not confirm its head (" + outcome + ")");
    }
  }

  /** Makes a caught-up listener a voter. Blocking. */
  public void promote(String nodeId) throws IOException {
    List<RaftPeer> voters = currentPeers(RaftPeerRole.FOLLOWER);
    List<RaftPeer> listeners = currentPeers(RaftPeerRole.LISTENER);
    RaftPeer listener =
        listeners.stream()
            .filter(p -> p.getId().toString().equals(nodeId))
            .findFirst()
            .orElseThrow(() -> ErrorCode.INVALID_REQUEST.error(nodeId + " is not a listener"));
    listeners.remove(listener);
    voters.add(RaftPeer.newBuilder().setId(nodeId).setAddress(listener.getAddress()).build());
    setConfiguration(voters, listeners, "promote " + nodeId + " to voter");
  }

  /**
   * When this node leads, hands leadership to another voter (the first that takes it), saying why
   * in one INFO line; does nothing otherwise. Blocking; failures are logged at DEBUG and retried by
   * the caller's next check.
   */
  public void leaveLeadershipIfLeader(String why) {
    if (!config.node().id().equals(leaderId.get())) {
      return;
    }
    try {
      for (RaftPeer voter : currentPeers(RaftPeerRole.FOLLOWER)) {
        if (voter.getId().equals(selfId)) {
          continue;
        }
        reads.handOver();
        RaftClientReply moved =
            client
                .get()
                .admin()
                .transferLeadership(voter.getId(), config.raft().requestTimeoutMs());
        if (moved.isSuccess()) {
          LOG.info("leadership handed to {}: {}", voter.getId(), why);
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not hand leadership over ({}): {}", why, e.toString());
    }
  }

  /** Removes {@code nodeId}; when it leads, leadership moves to another voter first. Blocking. */
  public void remove(String nodeId) throws IOException {
    List<RaftPeer> voters = currentPeers(RaftPeerRole.FOLLOWER);
    List<RaftPeer> listeners = currentPeers(RaftPeerRole.LISTENER);
    boolean voter = voters.removeIf(p -> p.getId().toString().equals(nodeId));
    boolean listener = listeners.removeIf(p -> p.getId().toString().equals(nodeId));
    if (!voter && !listener) {
      throw ErrorCode.NOT_FOUND.error(nodeId + " is not a member of the Raft group");
    }
    if (voters.isEmpty()) {
      throw ErrorCode.INVALID_REQUEST.error(
          nodeId + " is the last voter; a group cannot remove its last voter");
    }
    if (nodeId.equals(leaderId.get())) {
      if (nodeId.equals(config.node().id())) {
        reads.handOver();
      } else {
        tellLeaderOfHandover(nodeId);
      }
      // Only from nodeId (Ratis refuses it if another member leads by now): a leader that was
      // not told must not be moved.
      RaftClientReply moved;
      try {
        moved =
            client
                .get()
                .admin()
                .transferLeadership(
                    voters.get(0).getId(),
                    RaftPeerId.valueOf(nodeId),
                    config.raft().requestTimeoutMs());
      } catch (IOException e) {
        throw ErrorCode.UNAVAILABLE.error(
            "could not move leadership off "
                + nodeId
                + " ("
                + Failures.describe(e)
                + "); it was not removed, and leadership may have moved: retry the leave");
      }
      if (!moved.isSuccess()) {
        throw ErrorCode.UNAVAILABLE.error(
            "could not move leadership off " + nodeId + ": " + moved.getException());
      }
      LOG.info("leadership moved from {} to {} before removing it", nodeId, voters.get(0).getId());
    }
    setConfiguration(voters, listeners, "remove " + nodeId);
  }

  /**
   * Before this member has another member's leadership moved: that leader, asked by name, stops
   * counting earlier answers ({@link LeaderRead#HANDOVER} says why). Blocking. A leader of an
   * earlier version answers nothing and is moved as before; any other answer or failure refuses the
   * leave with nothing changed.
   */
  private void tellLeaderOfHandover(String leader) {
    LeaderRead answer;
    try {
      RaftClientReply reply =
          client.get().io().sendReadOnly(LeaderRead.HANDOVER, RaftPeerId.valueOf(leader));
      answer = LeaderRead.decode(reply.getMessage().getContent());
    } catch (IOException | RuntimeException e) {
      throw ErrorCode.UNAVAILABLE.error(
          "could not tell leader "
              + leader
              + " that its leadership is being moved ("
              + Failures.describe(e)
              + "); nothing was changed, retry the leave");
    }
    if (answer instanceof LeaderRead.Unanswered) {
      LOG.warn(
          "leader {} runs an earlier version: it keeps counting earlier answers while its"
              + " leadership is moved",
          leader);
    } else if (!(answer instanceof LeaderRead.HandingOver)) {
      throw ErrorCode.UNAVAILABLE.error(
          leader
              + " did not take the handover notice ("
              + answer
              + "); nothing was changed, retry the leave");
    }
  }

  private List<RaftPeer> currentPeers(RaftPeerRole role) throws IOException {
    return new ArrayList<>(
        server.getDivision(RaftSettings.GROUP_ID).getRaftConf().getCurrentPeers(role));
  }

  private void setConfiguration(List<RaftPeer> voters, List<RaftPeer> listeners, String what)
      throws IOException {
    RaftClientReply reply =
        client
            .get()
            .admin()
            .setConfiguration(
                SetConfigurationRequest.Arguments.newBuilder()
                    .setServersInNewConf(voters)
                    .setListenersInNewConf(listeners)
                    .setMode(SetConfigurationRequest.Mode.SET_UNCONDITIONALLY)
                    .build());
    if (!reply.isSuccess()) {
      throw ErrorCode.UNAVAILABLE.error("could not " + what + ": " + reply.getException());
    }
    LOG.info(
        "Raft configuration changed: {} (voters {}, listeners {})",
        what,
        RaftSettings.ids(voters),
        RaftSettings.ids(listeners));
  }
}
