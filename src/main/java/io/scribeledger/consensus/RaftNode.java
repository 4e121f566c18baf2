package io.scribeledger.consensus;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.failure.FailStop;
import io.scribeledger.ledger.Batch;
import io.scribeledger.ledger.ColdTier;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.HeadCheck;
import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.MemberRecord;
import io.scribeledger.ledger.Proposal;
import io.scribeledger.ledger.RegisterMember;
import io.scribeledger.ledger.RemoveMember;
import io.scribeledger.ledger.SealSegment;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.storage.DiskSpace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Raft member holding the ledger: starts and stops the Ratis server with its {@link
 * LedgerStateMachine} (set up by {@link RaftSettings}), keeps a Ratis client pointed at the leader
 * this member knows, proposes writes and replicated records through it, and reports the member's
 * Raft status. Reads are {@link LinearizableReads}, membership changes {@link GroupMembership}.
 * Start and close block; callers run them off the event loop.
 */
public final class RaftNode implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  /** One Raft group holds the whole ledger; its id is fixed so every node names the same group. */
  public static final RaftGroupId GROUP_ID = RaftSettings.GROUP_ID;

  private final NodeConfig config;
  private final RaftPeerId selfId;
  private final LedgerStateMachine stateMachine;
  private final Map<String, String> httpAddresses = new HashMap<>();
  private final RaftServer server;

  /** Points at the leader this member knows; replaced when it learns of another. */
  private volatile RaftClient client;

  private final RaftProperties properties;

  /** The gRPC TLS settings of every server and client this node makes (none when TLS is off). */
  private final Parameters parameters;

  /** The leader {@link #client} was built for (only the client-switch thread writes it). */
  private volatile RaftPeerId clientLeader;

  /** The leader before {@link #clientLeader}: left out of the client's peers (see clientGroup). */
  private volatile RaftPeerId formerLeader;

  private static final String RAFT_DIR = "raft";

  /** Every directory a node writes under {@code dataDir}: its state, its segments, its Raft log. */
  public static List<Path> writtenDirectories(Path dataDir) {
    return List.of(dataDir, LedgerState.segmentsDir(dataDir), dataDir.resolve(RAFT_DIR));
  }

  /** The group's directory in Ratis's layout: {@code <dataDir>/raft/<group id>}. */
  private static Path groupDir(Path dataDir) {
    return dataDir.resolve(RAFT_DIR).resolve(GROUP_ID.getUuid().toString());
  }

  /** Where Ratis keeps the state machine's snapshots: {@code <group dir>/sm}. */
  static Path snapshotsDir(Path dataDir) {
    return groupDir(dataDir).resolve("sm");
  }

  /** Switches clients on a leader change, and retires the old ones. */
  private final ScheduledExecutorService clientSwitches;

  /** Closes retired clients. */
  private final ExecutorService clientCloser;

  /** Linearizable reads: this member's read barriers, and its answers when it leads. */
  private final LinearizableReads reads;

  /** Changes to the group's membership asked of this member. */
  private final GroupMembership group;

  private boolean closed;
  private final WriteBatcher batcher;
  private final FailStop failStop;

  private RaftNode(
      NodeConfig config,
      LedgerStateMachine stateMachine,
      RaftServer server,
      RaftClient client,
      FailStop failStop,
      RaftProperties properties,
      Parameters parameters) {
    this.config = config;
    this.failStop = failStop;
    this.selfId = RaftPeerId.valueOf(config.node().id());
    this.stateMachine = stateMachine;
    this.server = server;
    this.client = client;
    this.properties = properties;
    this.parameters = parameters;
    this.clientSwitches =
        Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("scribe-raft-client-" + config.node().id()));
    this.clientCloser =
        Executors.newSingleThreadExecutor(
            DaemonThreads.named("scribe-raft-client-closer-" + config.node().id()));
    this.reads =
        new LinearizableReads(
            config,
            server,
            () -> this.client,
            this::leaderId,
            stateMachine.raftApplied(),
            stateMachine::proposeHeadCheckSoon,
            clientSwitches);
    this.group =
        new GroupMembership(config, server, () -> this.client, this::leaderId, reads, this::record);
    NodeConfig.Batching batching = config.raft().batching();
    this.batcher =
        new WriteBatcher(
            batching.maxEntries(), batching.maxBytes(), batching.maxInFlight(), this::propose);
    stateMachine.onSealDue(this::proposeSeal);
    stateMachine.onHeadCheckDue(this::proposeHeadCheck);
    stateMachine.onCommitIndex(this::localCommitIndex);
    stateMachine.onLeaderChanged(this::leaderChanged);
    stateMachine.onLeaderRead(reads::answer);
    httpAddresses.put(config.node().id(), config.httpAddress());
    config.raft().peers().forEach(p -> httpAddresses.put(p.id(), p.httpAddress()));
  }

  /** This member's Raft commit index, or -1 when Ratis cannot say. */
  private long localCommitIndex() {
    try {
      return server.getDivision(GROUP_ID).getRaftLog().getLastCommittedIndex();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Refuses to start when the Raft port is taken: Ratis would end the whole process from its gRPC
   * thread (System.exit, after a stack trace) instead of saying which port. A port freed meanwhile
   * only delays that to Ratis's own bind.
   */
  private static void requirePortFree(NodeConfig.Raft raft) throws IOException {
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new java.net.InetSocketAddress(raft.host(), raft.port()));
    } catch (java.net.BindException e) {
      throw new IOException(
          "the Raft port "
              + raft.host()
              + ":"
              + raft.port()
              + " is in use (another node, or a process that has not let go of it yet)",
          e);
    }
  }

  /**
   * Opens the ledger state, starts the Raft server and joins (or forms) the configured group.
   * Blocking.
   */
  public static RaftNode start(
      NodeConfig config, FailStop failStop, DiskSpace disk, Optional<ColdTier> coldTier)
      throws IOException {
    requirePortFree(config.raft());
    Path dataDir = config.node().dataDir();
    Path raftDir = dataDir.resolve(RAFT_DIR);
    Files.createDirectories(raftDir);
    RaftProperties props = RaftSettings.properties(config, raftDir);
    Parameters parameters = RaftSettings.parameters(config.security());
    RaftGroup group = RaftGroup.valueOf(GROUP_ID, RaftSettings.peers(config));
    // The state opens against the latest snapshot, so that an index lost behind it is restored
    // from it before any shared file is cut back.
    Path groupDir = groupDir(dataDir);
    boolean existing = Files.isDirectory(groupDir);
    Optional<Path> latestSnapshot = LedgerSnapshots.latestIn(snapshotsDir(dataDir));
    long openStart = System.nanoTime();
    LedgerState state;
    try {
      state = openLedger(config, latestSnapshot, coldTier);
    } catch (io.scribeledger.ledger.LedgerIndex.DamagedIndexException damage) {
      // No snapshot to restore from: the Raft log rebuilds the ledger if it still holds every
      // entry (Ratis purges only up to a snapshot, so without one it does, unless someone deleted
      // snapshots by hand).
      if (!logFromFirstEntry(groupDir)) {
        throw new IllegalStateException(
            damage.getMessage()
                + "; there is no snapshot to restore from and the Raft log no longer starts at its"
                + " first entry: remove this member (POST /cluster/leave) and add it back with an"
                + " empty data directory",
            damage);
      }
      LedgerState.clearForFullReplay(dataDir, damage);
      state = openLedger(config, latestSnapshot, coldTier);
    }
    if (state.restoredAtOpen()) {
      LOG.info(
          "the ledger index was behind the latest snapshot (lost, damaged, or a restore was cut short): restored from {}, "
              + "{} entries, key lookups rebuilt in {} ms",
          latestSnapshot.get().getFileName(),
          state.size(),
          (System.nanoTime() - openStart) / 1_000_000);
    }
    LedgerStateMachine sm =
        new LedgerStateMachine(state, config.storage(), config.node().id(), failStop, disk);
    RaftServer server;
    try {
      server =
          RaftServer.newBuilder()
              .setServerId(RaftPeerId.valueOf(config.node().id()))
              .setGroup(group)
              .setStateMachine(sm)
              .setProperties(props)
              .setParameters(parameters)
              .setOption(
                  existing ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
              .build();
      server.start();
    } catch (IOException | RuntimeException e) {
      state.close();
      throw e;
    }
    RaftClient client = RaftSettings.newClient(group, props, parameters, null, config.raft());
    int members = group.getPeers().size();
    if (existing) {
      Set<String> stored = storedVoters(server);
      warnIfStoredGroupIgnoresPeers(config, stored);
      members = stored.size();
    }
    LOG.info(
        "Raft member {} started on {} ({} group of {})",
        config.node().id(),
        config.raftAddress(),
        existing ? "recovered" : "new",
        members);
    return new RaftNode(config, sm, server, client, failStop, props, parameters);
  }

  /**
   * This member learned of a new leader: later proposals go through a fresh client that points at
   * it. The old client may be stuck on a leader that stopped answering (paused, partitioned): its
   * next attempt waits out a timeout and then seconds more while gRPC closes the dead channel, and
   * its ordered window holds every request behind that one. It finishes what it has in flight and
   * is closed later.
   */
  private void leaderChanged(RaftPeerId leader) {
    if (leader == null) {
      return;
    }
    try {
      clientSwitches.execute(() -> switchClient(leader));
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closing: no more proposals
    }
  }

  private void switchClient(RaftPeerId leader) {
    RaftClient old = client;
    // Compared with the leader this node pointed its client at, not with the client's own guess:
    // after a timed-out attempt the old client may already guess the new leader, yet still be stuck
    // closing its channel to the silent one, with every later request queued behind it.
    if (leader.equals(clientLeader)) {
      return;
    }
    RaftPeerId replaced = clientLeader;
    formerLeader = replaced;
    clientLeader = leader;
    RaftGroup group;
    try {
      group = clientGroup();
    } catch (IOException e) {
      return; // the group left this server: nothing to propose to
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      client = RaftSettings.newClient(group, properties, parameters, leader, config.raft());
    }
    long released = batcher.releaseWindow();
    reads.restart();
    LOG.info("Raft leader is now {}: proposals go to it", leader);
    try {
      // After a transfer the old leader answers at once and the old client finishes in
      // milliseconds; after a pause nothing answers, and the writers should hear so now. Only
      // writes aimed at a leader that is now replaced are given up on: the first client of a node
      // aimed at none, its writes find the leader themselves, and answering them "outcome unknown"
      // would only make their callers look up writes that commit.
      if (replaced != null) {
        var unusedAbandon =
            clientSwitches.schedule(
                () ->
                    batcher.abandon(
                        released,
                        ErrorCode.TIMEOUT.error(
                            "the Raft leader changed while this write was in flight; its outcome"
                                + " is unknown, look the key's history up before retrying")),
                config.raft().electionTimeoutMinMs(),
                TimeUnit.MILLISECONDS);
      }
      // Its requests stop retrying at the request timeout; then it goes (on its own thread:
      // closing a channel to a paused peer can take seconds).
      var unusedClose =
          clientSwitches.schedule(
              () -> retire(old), config.raft().requestTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      closeQuietly(old);
    }
  }

  /**
   * The members a new client may try, without the leader it replaces. A new leader answers its
   * first requests with LeaderNotReadyException until it commits an entry of its term; Ratis's
   * client then fails every request on that stream, and the retry that finds the stream closed
   * makes it guess a random other member as leader. When that guess was the former leader, paused
   * or cut off, each attempt waited out a whole attempt timeout with the ordered window held behind
   * it: writes stalled for seconds after a leader pause (issue 10, up to 4.9 s). Any other member
   * answers at once, naming the leader; a NotLeaderException also brings the full member list back
   * into the client.
   */
  private RaftGroup clientGroup() throws IOException {
    RaftGroup group = server.getDivision(GROUP_ID).getGroup();
    RaftPeerId former = formerLeader;
    // Never this node itself: the client reaches only the members it was built with, and this
    // node may lead again before the next switch.
    if (former == null
        || former.equals(selfId)
        || group.getPeer(former) == null
        || group.getPeers().size() < 2) {
      return group;
    }
    return RaftGroup.valueOf(
        group.getGroupId(),
        group.getPeers().stream().filter(p -> !p.getId().equals(former)).toList());
  }

  /** Closes a retired client off the switching thread (a close can wait seconds on a channel). */
  private void retire(RaftClient retired) {
    try {
      clientCloser.execute(() -> closeQuietly(retired));
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      closeQuietly(retired);
    }
  }

  private static void closeQuietly(RaftClient retired) {
    try {
      retired.close();
    } catch (IOException e) {
      LOG.debug("closing a retired Raft client: {}", e.toString());
    }
  }

  /**
   * Completes once this node has applied every write committed before the call (a read barrier,
   * confirmed by the leader: {@link LeaderRead}).
   */
  public CompletableFuture<Void> readBarrier() {
    return reads.barrier();
  }

  /** Changes to the group's membership, and where a member stands. */
  public GroupMembership group() {
    return group;
  }

  public LedgerState state() {
    return stateMachine.state();
  }

  public SnapshotStats snapshotStats() {
    return stateMachine.snapshotStats();
  }

  public AppliedIndexWatch watch() {
    return stateMachine.watch();
  }

  /**
   * Proposes a write; completes with what the state machine decided once the entry is committed and
   * applied.
   */
  public CompletableFuture<WriteOutcome> submit(Command command, BooleanSupplier clientGone) {
    if (failStop.failed()) {
      return CompletableFuture.failedFuture(
          ErrorCode.UNAVAILABLE.error(
              "this node failed stop and takes no writes until it restarts; send them to another"
                  + " member"));
    }
    return leaderId() == null ? RaftReplies.noLeader() : batcher.submit(command, clientGone);
  }

  /** The leader this node knows of, or null; cheap enough for every request. */
  private String leaderId() {
    try {
      RaftPeerId leader = server.getDivision(GROUP_ID).getInfo().getLeaderId();
      return leader == null ? null : leader.toString();
    } catch (IOException e) {
      return null;
    }
  }

  /** Sends one Raft entry: a lone write as itself, concurrent writes as one batch. */
  private CompletableFuture<List<WriteOutcome>> propose(List<Command> commands) {
    Proposal proposal = commands.size() == 1 ? commands.get(0) : new Batch(commands);
    // Wrapped, not copied: the encoded entry is not touched again, and values are large.
    Message message =
        Message.valueOf(UnsafeByteOperations.unsafeWrap(CommandCodec.encode(proposal)));
    // Bounded: the batcher's window frees at the request timeout even while the client still
    // retries (the outcome is then unknown to the caller, as for any timeout).
    return sendOrdered(message)
        .orTimeout(config.raft().requestTimeoutMs(), TimeUnit.MILLISECONDS)
        .handle(
            (reply, error) -> {
              RaftClientReply r = RaftReplies.checked(reply, error, "write");
              WriteOutcome outcome =
                  OutcomeCodec.decode(r.getMessage().getContent().asReadOnlyByteBuffer());
              return outcome instanceof WriteOutcome.Batched batched
                  ? batched.outcomes()
                  : List.of(outcome);
            });
  }

  /**
   * Sends a proposal through the current client's ordered window. Ratis fails that window for good
   * once one request in it runs out of retries (every later request then fails at once with
   * AlreadyClosedException), which after a leader pause left every write failing until the next
   * leader change: a client whose window failed is replaced.
   */
  private CompletableFuture<RaftClientReply> sendOrdered(Message message) {
    RaftClient used = client;
    return used.async()
        .send(message)
        .whenComplete(
            (reply, error) -> {
              Throwable cause =
                  error instanceof CompletionException && error.getCause() != null
                      ? error.getCause()
                      : error;
              if (cause instanceof AlreadyClosedException
                  || cause instanceof RaftRetryFailureException) {
                renewClient(used, cause);
              }
            });
  }

  /** Replaces {@code failed} with a fresh client to the same leader, if it is still in use. */
  private void renewClient(RaftClient failed, Throwable why) {
    try {
      clientSwitches.execute(
          () -> {
            synchronized (this) {
              if (closed || client != failed) {
                return;
              }
              try {
                client =
                    RaftSettings.newClient(
                        clientGroup(), properties, parameters, clientLeader, config.raft());
              } catch (IOException e) {
                return; // the group left this server: nothing to propose to
              }
            }
            LOG.info(
                "the Raft client stopped taking requests ({}); proposals go through a new one",
                why.getClass().getSimpleName());
            retire(failed);
          });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closing: no more proposals
    }
  }

  /** Proposes sealing the active segment; the state machine asks for it on the leader. */
  private void proposeSeal() {
    // The outcome is handled here; nobody waits on the returned future.
    var unused =
        sendOrdered(Message.valueOf(ByteString.copyFrom(CommandCodec.encode(new SealSegment()))))
            .whenComplete(
                (reply, error) -> {
                  stateMachine.sealFinished();
                  if (error != null || !reply.isSuccess()) {
                    LOG.warn(
                        "segment seal proposal failed: {}",
                        error != null ? error.toString() : reply.getException());
                  }
                });
  }

  /** Proposes a head check; the state machine asks for it (see {@link HeadCheck}). */
  private void proposeHeadCheck() {
    // The outcome is handled here; nobody waits on the returned future.
    var unused =
        record(HeadCheck.toFill())
            .whenComplete(
                (outcome, error) -> {
                  if (error != null) {
                    LOG.warn("head check proposal failed: {}", error.getMessage());
                  }
                });
  }

  /**
   * Records a change to the replicated records through Raft, in order with the writes: a member's
   * record ({@link RegisterMember}, {@link RemoveMember}) or a segment's archived copy.
   */
  public CompletableFuture<WriteOutcome> record(Proposal change) {
    return sendOrdered(Message.valueOf(ByteString.copyFrom(CommandCodec.encode(change))))
        .handle(
            (reply, error) ->
                OutcomeCodec.decode(
                    RaftReplies.checked(reply, error, "record")
                        .getMessage()
                        .getContent()
                        .asReadOnlyByteBuffer()));
  }

  public NodeStatus status() {
    RaftProgress progress = progress();
    Optional<FailStop.Fault> fault = failStop.fault();
    Optional<LedgerState.RestoreProgress> restoring = stateMachine.state().restoreProgress();
    // A failed or restoring state refuses reads, may be closed, or is locked by the restore: then
    // the status says what is known without touching it.
    boolean stateReadable = fault.isEmpty() && restoring.isEmpty();
    return new NodeStatus(
        config.node().id(),
        progress.role(),
        progress.term(),
        progress.leaderId(),
        progress.commitIndex(),
        leaderCommitIndex(progress.leaderId()),
        leaderSilentMs(),
        progress.appliedIndex(),
        stateReadable ? stateMachine.state().size() : stateMachine.watch().applied(),
        stateReadable ? stateMachine.state().segmentCount() : 0,
        stateReadable ? members() : List.of(),
        stateMachine.snapshotStats(),
        List.of(),
        null,
        fault.map(f -> f.where() + ": " + f.reason()).orElse(null),
        restoring
            .map(
                r ->
                    "restoring from a snapshot: key lookups rebuilt for "
                        + r.done()
                        + " of "
                        + r.total()
                        + " entries")
            .orElse(null),
        null);
  }

  private List<NodeStatus.Member> members() {
    List<NodeStatus.Member> members = new ArrayList<>();
    try {
      RaftServer.Division division = server.getDivision(GROUP_ID);
      Map<String, MemberRecord> joined = stateMachine.state().members();
      Map<String, Long> match = matchIndices(division);
      division
          .getRaftConf()
          .getCurrentPeers(RaftPeerRole.FOLLOWER)
          .forEach(p -> members.add(member(p, true, joined, match)));
      division
          .getRaftConf()
          .getCurrentPeers(RaftPeerRole.LISTENER)
          .forEach(p -> members.add(member(p, false, joined, match)));
    } catch (IOException e) {
      // the group is not on this server (any more): no members to list, as progress() says UNKNOWN
    }
    return members;
  }

  /**
   * Role, term, leader and indexes without the member list: cheap enough for every metrics scrape.
   */
  public RaftProgress progress() {
    try {
      RaftServer.Division division = server.getDivision(GROUP_ID);
      var info = division.getInfo();
      RaftPeerId leader = info.getLeaderId();
      return new RaftProgress(
          info.getCurrentRole().name(),
          info.getCurrentTerm(),
          leader == null ? null : leader.toString(),
          division.getRaftLog().getLastCommittedIndex(),
          info.getLastAppliedIndex());
    } catch (IOException e) {
      return new RaftProgress("UNKNOWN", 0, null, 0, 0);
    }
  }

  private static LedgerState openLedger(
      NodeConfig config, Optional<Path> latestSnapshot, Optional<ColdTier> coldTier) {
    return new LedgerState(
        config.node().dataDir(),
        config.storage().segmentSizeBytes(),
        latestSnapshot,
        io.scribeledger.storage.FileOpener.DEFAULT,
        coldTier);
  }

  /** Ratis's log segment names: {@code log_<first>-<last>} and {@code log_inprogress_<first>}. */
  private static final java.util.regex.Pattern LOG_SEGMENT =
      java.util.regex.Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-\\d+)?");

  /** Whether the Raft log under {@code groupDir} holds its first entry (index 0). */
  static boolean logFromFirstEntry(Path groupDir) throws IOException {
    Path current = groupDir.resolve("current");
    if (!Files.isDirectory(current)) {
      return false;
    }
    try (var files = Files.list(current)) {
      return files
          .map(f -> LOG_SEGMENT.matcher(f.getFileName().toString()))
          .filter(java.util.regex.Matcher::matches)
          .anyMatch(m -> Long.parseLong(m.group(1)) == 0);
    }
  }

  /**
   * The leader's commit index as last heard from it (-1: no leader, or nothing heard since this
   * node started). A follower's own commit index stops at the end of its log, so after a restart it
   * looks caught up while the leader is far ahead; the leader's comes with every append it sends
   * (Ratis keeps it among the division's commit infos). Read for the status only, not the gauges.
   */
  private long leaderCommitIndex(String leaderId) {
    if (leaderId == null) {
      return -1;
    }
    try {
      return GroupMembership.commitOf(server.getDivision(GROUP_ID).getCommitInfos(), leaderId)
          .orElse(-1);
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * How long ago this follower last heard from its leader (Ratis's follower info); 0 on the leader
   * (whose own standing the readiness check confirms with a read barrier), -1 when unknown.
   */
  private long leaderSilentMs() {
    try {
      var role = server.getDivision(GROUP_ID).getInfo().getRoleInfoProto();
      if (role.hasFollowerInfo()) {
        return role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs();
      }
      return role.hasLeaderInfo() ? 0 : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** The voters of the group's current configuration (as its log holds it), by id. */
  private static Set<String> storedVoters(RaftServer server) throws IOException {
    return RaftSettings.ids(server.getDivision(GROUP_ID).getRaftConf().getCurrentPeers());
  }

  /**
   * The configured peers only seed a new group; a recovered one keeps the membership in its log.
   * The trap worth a warning: a data directory that once ran alone, now started as a cluster
   * member.
   */
  private static void warnIfStoredGroupIgnoresPeers(NodeConfig config, Set<String> stored) {
    if (config.raft().peers().size() > 1 && stored.equals(Set.of(config.node().id()))) {
      LOG.warn(
          "{} holds a one-member Raft group of {} alone; the configured peers {} are ignored and this node "
              + "will not join them. Start a cluster member on a fresh node.dataDir.",
          config.node().dataDir(),
          config.node().id(),
          config.raft().peers().stream().map(NodeConfig.Peer::id).toList());
    }
  }

  /**
   * A member with its HTTP address: from the config for bootstrap peers, else as recorded by its
   * join.
   */
  private NodeStatus.Member member(
      RaftPeer peer, boolean voter, Map<String, MemberRecord> joined, Map<String, Long> match) {
    String id = peer.getId().toString();
    MemberRecord record = joined.get(id);
    return new NodeStatus.Member(
        id,
        peer.getAddress(),
        httpAddresses.getOrDefault(id, record == null ? null : record.httpAddress()),
        voter,
        record == null || record.publicKey().isEmpty() ? null : record.publicKey(),
        match.getOrDefault(id, -1L));
  }

  /**
   * The Raft match index of each member this node knows one for: its own (the end of its durable
   * log) everywhere, every follower's and listener's on the leader. Ratis gives the leader's as an
   * array in the order of its follower list, read in a separate pass, and a follower whose appender
   * restarts moves to the end of that list: the list is read before and after the array, and the
   * others are left out unless both reads agree (never matched to the wrong member).
   */
  private Map<String, Long> matchIndices(RaftServer.Division division) {
    Map<String, Long> out = new java.util.HashMap<>();
    out.put(config.node().id(), division.getRaftLog().getFlushIndex());
    var info = division.getInfo();
    List<String> before = followerIds(info.getRoleInfoProto());
    long[] match = info.getFollowerMatchIndices();
    List<String> after = followerIds(info.getRoleInfoProto());
    if (match != null && before.equals(after) && before.size() == match.length) {
      for (int i = 0; i < match.length; i++) {
        out.put(before.get(i), match[i]);
      }
    }
    return out;
  }

  private static List<String> followerIds(org.apache.ratis.proto.RaftProtos.RoleInfoProto role) {
    if (!role.hasLeaderInfo()) {
      return List.of();
    }
    return role.getLeaderInfo().getFollowerInfoList().stream()
        .map(f -> f.getId().getId().toStringUtf8())
        .toList();
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      closed = true;
    }
    // Retired clients waiting to be closed are closed now.
    for (Runnable pending : clientSwitches.shutdownNow()) {
      pending.run();
    }
    clientCloser.shutdown();
    try {
      if (!clientCloser.awaitTermination(10, TimeUnit.SECONDS)) {
        clientCloser.shutdownNow();
      }
    } catch (InterruptedException e) {
      clientCloser.shutdownNow();
      Thread.currentThread().interrupt();
    }
    try {
      client.close();
    } finally {
      try {
        server.close();
      } finally {
        reads.close();
      }
    }
    LOG.info("Raft member {} stopped", config.node().id());
  }
}
