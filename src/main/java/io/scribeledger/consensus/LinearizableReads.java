package io.scribeledger.consensus;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ErrorCode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linearizable reads, both sides of the {@link LeaderRead} protocol: a member's read barriers (the
 * leader names the Raft index to read from, the member waits until it has applied it), and the
 * leader's answers, given only while a majority confirmed its leadership lately ({@link
 * LeaderConfirmation}) and never across a handover of its leadership.
 */
final class LinearizableReads implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LinearizableReads.class);

  private final NodeConfig config;
  private final RaftPeerId selfId;
  private final RaftServer server;

  /** The client the node proposes through: it points at the leader this member knows. */
  private final Supplier<RaftClient> client;

  /** The leader this member knows of, or null. */
  private final Supplier<String> leaderId;

  /** The Raft index this member has applied. */
  private final AppliedIndexWatch raftApplied;

  /** Whether this node, leading, may serve a linearizable read from its own state now. */
  private final LeaderConfirmation leadership;

  /** Runs the leader's polls of its confirmation (the node's client-switch thread). */
  private final ScheduledExecutorService poller;

  /**
   * Runs what follows each read barrier: never Ratis's apply thread, never a pool anything else can
   * block.
   */
  private final ExecutorService barrierCompletions;

  private final ReadBarriers readBarriers;

  /** Identity of the read barriers this node submits to its own server. */
  private final ClientId localClientId = ClientId.randomId();

  private final AtomicLong localCallIds = new AtomicLong();

  /** Whether this node already said that a leader of an earlier version answered a barrier. */
  private final AtomicBoolean legacyLeaderSeen = new AtomicBoolean();

  /**
   * Reads of the member {@code server} runs; {@code headCheckSoon} asks for an entry to commit when
   * a confirmation waits for one.
   */
  LinearizableReads(
      NodeConfig config,
      RaftServer server,
      Supplier<RaftClient> client,
      Supplier<String> leaderId,
      AppliedIndexWatch raftApplied,
      Runnable headCheckSoon,
      ScheduledExecutorService poller) {
    this.config = config;
    this.selfId = RaftPeerId.valueOf(config.node().id());
    this.server = server;
    this.client = client;
    this.leaderId = leaderId;
    this.raftApplied = raftApplied;
    this.poller = poller;
    this.barrierCompletions =
        Executors.newSingleThreadExecutor(DaemonThreads.named("scribe-read-barriers"));
    this.readBarriers = new ReadBarriers(this::sendReadBarrier, barrierCompletions);
    this.leadership =
        LeaderConfirmation.start(
            config.node().id(),
            config.raft().electionTimeoutMinMs(),
            this::leaderView,
            headCheckSoon,
            Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("scribe-pause-watch-" + config.node().id())));
  }

  /**
   * Completes once this node has applied every write committed before the call (a read barrier,
   * confirmed by the leader: {@link LeaderRead}).
   */
  CompletableFuture<Void> barrier() {
    return leaderId.get() == null ? RaftReplies.noLeader() : readBarriers.await();
  }

  /**
   * The leader changed: the readers of the barrier in flight get a new one, sent to the new leader
   * ({@link ReadBarriers#restart}).
   */
  void restart() {
    readBarriers.restart();
  }

  /** The leader's answer to a {@link LeaderRead} query the state machine received. */
  CompletableFuture<LeaderRead> answer(LeaderRead.Ask ask) {
    return ask == LeaderRead.Ask.HANDOVER ? handingOver() : confirmedReadIndex();
  }

  /**
   * This leader is about to have its leadership moved (by itself, or by another member that told
   * it): it counts no answer until the transfer could have ended ({@link
   * LeaderConfirmation#handOver}). Whether this began a handover not already under way.
   */
  boolean handOver() {
    return leadership.handOver(leaderView(), config.raft().requestTimeoutMs());
  }

  /**
   * One read barrier: the leader names the Raft index to read from once it has confirmed that it
   * leads ({@link #confirmedReadIndex}), and this node waits until it has applied that index.
   */
  private CompletableFuture<Void> sendReadBarrier() {
    long deadlineNanos = System.nanoTime() + config.raft().requestTimeoutMs() * 1_000_000L;
    return askLeader()
        .thenCompose(
            answer -> {
              if (answer instanceof LeaderRead.ReadFrom from) {
                return appliedUpTo(from.raftIndex(), deadlineNanos);
              }
              if (answer instanceof LeaderRead.Refused refused) {
                return CompletableFuture.failedFuture(
                    ErrorCode.NO_LEADER.error(
                        "the Raft leader could not confirm that it leads: "
                            + refused.reason()
                            + "; retry shortly"));
              }
              if (answer instanceof LeaderRead.NotLeading) {
                return RaftReplies.noLeader();
              }
              if (!legacyLeaderSeen.getAndSet(true)) {
                LOG.warn(
                    "the Raft leader {} runs an earlier version: linearizable reads here rely on"
                        + " Ratis's ReadIndex alone until it is upgraded",
                    leaderId.get());
              }
              return ratisReadIndex();
            });
  }

  /**
   * Asks the leader for the index to read from: through this node's server when it leads, else
   * through the client, which the client switch keeps pointed at the leader this node knows. The
   * request is Ratis's linearizable read, so the leader's own lease (by when it sent the heartbeats
   * answered) must hold too. When that fails, or the member asked no longer leads, it asks once
   * more through the client.
   */
  private CompletableFuture<LeaderRead> askLeader() {
    CompletableFuture<RaftClientReply> first =
        selfId.toString().equals(leaderId.get())
            ? submitLocally(readRequest(LeaderRead.REQUEST))
            : client.get().async().sendReadOnlyUnordered(LeaderRead.REQUEST);
    return first
        .handle((reply, error) -> error == null ? answer(reply) : null)
        .thenCompose(
            answer ->
                answer != null && !(answer instanceof LeaderRead.NotLeading)
                    ? CompletableFuture.completedFuture(answer)
                    : client
                        .get()
                        .async()
                        .sendReadOnlyUnordered(LeaderRead.REQUEST)
                        .handle(
                            (reply, error) -> answer(RaftReplies.checked(reply, error, "read"))));
  }

  /** The leader's answer in a successful reply; null for a failed one. */
  private static LeaderRead answer(RaftClientReply reply) {
    return reply.isSuccess() ? LeaderRead.decode(reply.getMessage().getContent()) : null;
  }

  /** Ratis's own ReadIndex round through this node's server, for a leader of an earlier version. */
  private CompletableFuture<Void> ratisReadIndex() {
    return submitLocally(readRequest(Message.EMPTY))
        .handle(
            (reply, error) -> {
              RaftReplies.checked(reply, error, "read");
              return null;
            });
  }

  private CompletableFuture<RaftClientReply> submitLocally(RaftClientRequest request) {
    try {
      // Bounded: a barrier that never returned would hold up every read queued behind it.
      return server
          .submitClientRequestAsync(request)
          .orTimeout(config.raft().requestTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private RaftClientRequest readRequest(Message query) {
    return RaftClientRequest.newBuilder()
        .setClientId(localClientId)
        .setServerId(selfId)
        .setGroupId(RaftSettings.GROUP_ID)
        .setCallId(localCallIds.incrementAndGet())
        .setMessage(query)
        .setType(RaftClientRequest.readRequestType())
        .setTimeoutMs(config.raft().requestTimeoutMs())
        .build();
  }

  /** Completes once this node has applied Raft index {@code index}, or fails at the deadline. */
  private CompletableFuture<Void> appliedUpTo(long index, long deadlineNanos) {
    // At least an election timeout: the leader's answer may have used up the barrier's time, and
    // the entries up to its commit index reach this member with the next heartbeat.
    long waitNanos =
        Math.max(
            deadlineNanos - System.nanoTime(),
            TimeUnit.MILLISECONDS.toNanos(config.raft().electionTimeoutMinMs()));
    return raftApplied.awaitWithin(
        index,
        java.time.Duration.ofNanos(waitNanos),
        () ->
            ErrorCode.TIMEOUT.error(
                "this node has not applied the leader's commit index "
                    + index
                    + " in time; retry, or read on the leader"));
  }

  /**
   * The leader's side of every read barrier (the state machine's query runs it): once this node is
   * a leader that has applied its first entry of the term and whose leadership a majority confirmed
   * lately, its commit index, which holds every write acknowledged before the barrier began. Ratis
   * answers a one-member group's ReadIndex with its commit index at once, and after a restart (the
   * commit index is not persisted) that can be below entries acknowledged before the crash and not
   * yet replayed. And Ratis answers a ReadIndex, a leader's own or a follower's, from confirmations
   * that can predate a pause or a partition ({@link LeaderConfirmation}). Checked at once on the
   * thread Ratis runs the query on, then every 5 ms on the client thread, for up to half of one
   * client attempt ({@link RaftSettings#clientAttemptMs}), so the refusal reaches a remote reader
   * before its client gives up on the attempt and sends it again.
   */
  private CompletableFuture<LeaderRead> confirmedReadIndex() {
    CompletableFuture<LeaderRead> answer = new CompletableFuture<>();
    pollConfirmed(
        answer,
        System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(RaftSettings.clientAttemptMs(config.raft()) / 2));
    return answer;
  }

  /**
   * The leader's side of {@link LeaderRead#HANDOVER}: another member is about to have this leader's
   * leadership moved, with a transfer that may take up to {@code raft.requestTimeoutMs} (members
   * share it), so it counts no earlier answer until then ({@link LeaderConfirmation#handOver}), as
   * when it hands over by itself.
   */
  private CompletableFuture<LeaderRead> handingOver() {
    try {
      LeaderConfirmation.View view = leaderView();
      if (!view.leading()) {
        return CompletableFuture.completedFuture(new LeaderRead.NotLeading());
      }
      if (leadership.handOver(view, config.raft().requestTimeoutMs())) {
        LOG.info(
            "leader {}: another member is moving its leadership; linearizable reads here wait until"
                + " it has moved or the transfer has timed out ({} ms)",
            config.node().id(),
            config.raft().requestTimeoutMs());
      }
      return CompletableFuture.completedFuture(new LeaderRead.HandingOver());
    } catch (RuntimeException e) {
      // Ratis's state unreadable (a log closing under it): no notice taken, and the mover is told.
      return CompletableFuture.completedFuture(
          new LeaderRead.Refused("its Raft state cannot be read: " + e));
    }
  }

  /** What {@link #leadership} judges: this leader's voters, their last answers, its log. */
  private LeaderConfirmation.View leaderView() {
    try {
      return leaderView(server.getDivision(RaftSettings.GROUP_ID));
    } catch (IOException noGroup) {
      return LeaderConfirmation.View.NOT_LEADING;
    }
  }

  private static LeaderConfirmation.View leaderView(RaftServer.Division division) {
    var info = division.getInfo();
    if (!info.isLeader()) {
      return LeaderConfirmation.View.NOT_LEADING;
    }
    Map<String, Long> ages = new HashMap<>();
    for (var follower : info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
      ages.put(follower.getId().getId().toStringUtf8(), follower.getLastRpcElapsedTimeMs());
    }
    var conf = division.getRaftConf();
    List<Set<String>> voterSets = new ArrayList<>();
    voterSets.add(RaftSettings.ids(conf.getCurrentPeers()));
    if (!conf.getPreviousPeers().isEmpty()) {
      voterSets.add(
          RaftSettings.ids(conf.getPreviousPeers())); // a change in progress: both must agree
    }
    var log = division.getRaftLog();
    var last = log.getLastEntryTermIndex();
    return new LeaderConfirmation.View(
        true, voterSets, ages, last == null ? -1 : last.getIndex(), log.getLastCommittedIndex());
  }

  private void pollConfirmed(CompletableFuture<LeaderRead> answer, long deadlineNanos) {
    String waitingFor;
    try {
      var division = server.getDivision(RaftSettings.GROUP_ID);
      var info = division.getInfo();
      if (!info.isLeader()) {
        answer.complete(new LeaderRead.NotLeading());
        return;
      }
      if (!info.isLeaderReady()) {
        waitingFor = "it has yet to commit its first entry as leader";
      } else if (!leadership.confirmed(leaderView(division))) {
        waitingFor =
            "a majority of the group has not answered it lately, or it has yet to commit an entry"
                + " since";
      } else {
        // Read after the confirmation: every write acknowledged before the barrier is in it.
        answer.complete(new LeaderRead.ReadFrom(division.getRaftLog().getLastCommittedIndex()));
        return;
      }
    } catch (IOException e) {
      answer.complete(new LeaderRead.NotLeading()); // no group here, so no leadership either
      return;
    } catch (RuntimeException e) {
      // Ratis's state unreadable (a log closing under it): refuse, never leave the reader waiting.
      answer.complete(new LeaderRead.Refused("its Raft state cannot be read: " + e));
      return;
    }
    if (System.nanoTime() <= deadlineNanos) {
      try {
        var unused =
            poller.schedule(() -> pollConfirmed(answer, deadlineNanos), 5, TimeUnit.MILLISECONDS);
        return;
      } catch (java.util.concurrent.RejectedExecutionException e) {
        waitingFor = "it is stopping";
      }
    }
    answer.complete(new LeaderRead.Refused(waitingFor));
  }

  @Override
  public void close() {
    barrierCompletions.shutdownNow();
    leadership.close();
  }
}
