package io.scribeledger.consensus;

import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.scribeledger.error.LedgerException;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Raft member holding the ledger: the Ratis server with its {@link LedgerStateMachine}, and a
 * Ratis client that proposes writes (Ratis routes them to the leader) and issues read barriers.
 * Start and close block; callers run them off the event loop.
 */
public final class RaftNode implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  /** One Raft group holds the whole ledger; its id is fixed so every node names the same group. */
  public static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("scribe-ledger".getBytes(StandardCharsets.UTF_8)));

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

  /** Switches clients on a leader change, and retires the old ones. */
  private final ScheduledExecutorService clientSwitches;

  /** Closes retired clients. */
  private final ExecutorService clientCloser;

  /** Whether this node, leading, may serve a linearizable read from its own state now. */
  private final LeaderConfirmation leadership;

  private boolean closed;
  private final WriteBatcher batcher;
  private final FailStop failStop;

  /**
   * Runs what follows each read barrier: never Ratis's apply thread, never a pool anything else can
   * block.
   */
  private final ExecutorService barrierCompletions =
      Executors.newSingleThreadExecutor(daemon("scribe-read-barriers"));

  private final ReadBarriers readBarriers =
      new ReadBarriers(this::sendReadBarrier, barrierCompletions);

  /** Identity of the read barriers this node submits to its own server. */
  private final ClientId localClientId = ClientId.randomId();

  private final AtomicLong localCallIds = new AtomicLong();

  /** Whether this node already said that a leader of an earlier version answered a barrier. */
  private final AtomicBoolean legacyLeaderSeen = new AtomicBoolean();

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
            daemon("scribe-raft-client-" + config.node().id()));
    this.clientCloser =
        Executors.newSingleThreadExecutor(
            daemon("scribe-raft-client-closer-" + config.node().id()));
    this.leadership =
        LeaderConfirmation.start(
            config.node().id(),
            config.raft().electionTimeoutMinMs(),
            this::leaderView,
            stateMachine::proposeHeadCheckSoon,
            Executors.newSingleThreadScheduledExecutor(
                daemon("scribe-pause-watch-" + config.node().id())));
    NodeConfig.Batching batching = config.raft().batching();
    this.batcher =
        new WriteBatcher(
            batching.maxEntries(), batching.maxBytes(), batching.maxInFlight(), this::propose);
    stateMachine.onSealDue(this::proposeSeal);
    stateMachine.onHeadCheckDue(this::proposeHeadCheck);
    stateMachine.onCommitIndex(this::localCommitIndex);
    stateMachine.onLeaderChanged(this::leaderChanged);
    stateMachine.onLeaderRead(
        ask -> ask == LeaderRead.Ask.HANDOVER ? handingOver() : confirmedReadIndex());
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
    RaftProperties props = properties(config, raftDir);
    Parameters parameters = parameters(config.security());
    RaftGroup group = RaftGroup.valueOf(GROUP_ID, peers(config));
    // The state opens against the latest snapshot, so that an index lost behind it is restored
    // from it before any shared file is cut back (Ratis's layout: <raft dir>/<group id>/sm).
    Path groupDir = raftDir.resolve(GROUP_ID.getUuid().toString());
    boolean existing = Files.isDirectory(groupDir);
    Optional<Path> latestSnapshot = LedgerSnapshots.latestIn(groupDir.resolve("sm"));
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
    RaftClient client = newClient(group, props, parameters, null, config.raft());
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

  private static RaftClient newClient(
      RaftGroup group,
      RaftProperties props,
      Parameters parameters,
      RaftPeerId leader,
      NodeConfig.Raft raft) {
    // Retries stop when the request is raft.requestTimeoutMs old, when its caller is told the
    // outcome is unknown: a write must not go on retrying, and land, long after that answer.
    RequestTypeDependentRetryPolicy.Builder retry = RequestTypeDependentRetryPolicy.newBuilder();
    TimeDuration deadline = TimeDuration.valueOf(raft.requestTimeoutMs(), TimeUnit.MILLISECONDS);
    for (RaftProtos.RaftClientRequestProto.TypeCase type :
        RaftProtos.RaftClientRequestProto.TypeCase.values()) {
      retry.setRetryPolicy(
          type,
          RetryPolicies.retryForeverWithSleep(TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)));
      retry.setTimeout(type, deadline);
    }
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(props)
        .setParameters(parameters)
        .setLeaderId(leader)
        .setRetryPolicy(retry.build())
        .build();
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
    formerLeader = clientLeader;
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
      client = newClient(group, properties, parameters, leader, config.raft());
    }
    long released = batcher.releaseWindow();
    readBarriers.restart();
    LOG.info("Raft leader is now {}: proposals go to it", leader);
    try {
      // After a transfer the old leader answers at once and the old client finishes in
      // milliseconds; after a pause nothing answers, and the writers should hear so now.
      var unusedAbandon =
          clientSwitches.schedule(
              () ->
                  batcher.abandon(
                      released,
                      ErrorCode.TIMEOUT.error(
                          "the Raft leader changed while this write was in flight; its outcome is"
                              + " unknown, look the key's history up before retrying")),
              config.raft().electionTimeoutMinMs(),
              TimeUnit.MILLISECONDS);
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

  /** Makes the one daemon thread of a single-thread executor, named {@code name}. */
  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
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

  private static List<RaftPeer> peers(NodeConfig config) {
    if (config.raft().peers().isEmpty()) {
      return List.of(
          RaftPeer.newBuilder()
              .setId(config.node().id())
              .setAddress(config.selfRaftAddress())
              .build());
    }
    List<RaftPeer> peers = new ArrayList<>();
    for (NodeConfig.Peer p : config.raft().peers()) {
      peers.add(RaftPeer.newBuilder().setId(p.id()).setAddress(p.raftAddress()).build());
    }
    return peers;
  }

  /** The Ratis settings of a member; package-private for the test of what a member acknowledges. */
  static RaftProperties properties(NodeConfig config, Path raftDir) {
    NodeConfig.Raft raft = config.raft();
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
    GrpcConfigKeys.Server.setHost(p, raft.host());
    GrpcConfigKeys.Server.setPort(p, raft.port());
    RaftServerConfigKeys.Rpc.setTimeoutMin(
        p, TimeDuration.valueOf(raft.electionTimeoutMinMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(
        p, TimeDuration.valueOf(raft.electionTimeoutMaxMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(raft.requestTimeoutMs(), TimeUnit.MILLISECONDS));
    // One attempt of the client, not the whole write: a leader that is paused (SIGSTOP, a long GC)
    // answers nothing, and the client tries another member only once an attempt times out. Two
    // election timeouts let a new leader be elected meanwhile; retries (bounded by
    // raft.requestTimeoutMs through the retry count) carry the write to it.
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(clientAttemptMs(raft), TimeUnit.MILLISECONDS));
    // A value travels inside one Raft entry, so every size limit on the path must hold the largest
    // one.
    // Sized for the largest entry any member may send, not this node's own limits: a leader
    // configured higher than a follower must never send it an entry it cannot take.
    long entryMax = ConfigResolver.MAX_ENTRY_BYTES;
    SizeInBytes entry = SizeInBytes.valueOf(entryMax);
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, entry);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(entryMax + 8));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(raft.logSegmentSizeBytes()));
    // Memory the log may hold, sized from the heap: writes pending on the leader, and cached
    // entries (Ratis's defaults, 200 MB of cache and 4 entries' worth pending, alone would fill a
    // 512 MiB heap under large values; measured with bench/OverloadBench.java).
    long heap = Runtime.getRuntime().maxMemory();
    RaftServerConfigKeys.Write.setByteLimit(
        p, SizeInBytes.valueOf(Math.max(2 * entryMax, Math.min(heap / 8, 4 * entryMax))));
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(
        p, SizeInBytes.valueOf(Math.max(2 * entryMax, heap / 8)));
    long messageMax = entryMax + (1 << 20);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(messageMax));
    // Snapshot files travel in chunks that must fit in one gRPC message too.
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(
        p, SizeInBytes.valueOf(Math.min(messageMax / 2, 8L << 20)));
    // The leader's appender for a follower stalls up to (timeout x in-flight chunks) when an
    // install
    // fails (e.g. the follower is down), sending it no heartbeats meanwhile: keep that short.
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(
        p, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, 2);
    // Ratis otherwise appends, fsyncs and replicates an extra metadata entry after every commit,
    // only
    // to learn its commit index sooner on restart (it learns it from the leader anyway): measured
    // 36 -> 21 ms per single-client write on a 3-node cluster.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    // A member must store what it acknowledges: the leader counts the acknowledgement toward the
    // majority that commits an entry. Ratis 3.3's default "composed" follower append skips a
    // request that starts where an append still being written starts, yet acknowledges the
    // request's last index; leaders send such longer resends whenever a heartbeat finds a
    // catching-up member behind. A restarted member then never caught up again (its leader retried
    // from above its log forever; ClusterProcessIT, ~3 in 70 runs). The plain append stores what it
    // acknowledges (AppendAcknowledgementTest; ARCHITECTURE.md, "Consensus").
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // How long the leader waits between attempts to reach a follower that fails: Ratis's default
    // backs off to 1 s and then 5 s, so a follower restarted after a while stayed unreached (and
    // behind, timing out into futile elections) for up to 5 s more — measured 4-19 s to catch up.
    // Ratis sleeps 0.5-1.5 times the step, which is at most a quarter of the minimum election
    // timeout, so every wait (at most 3/8 of it) ends before the next heartbeat is due (half of
    // it): after a longer one an appender builds only a heartbeat, whose refusal by a follower that
    // is behind (as after every restart) counts as one more error and another wait, so the first
    // entries of a catch-up came 125-375 ms late, and a leader whose view of a follower was wrong
    // sent it heartbeats only, forever. A down follower costs the leader a connection attempt every
    // ~50 ms.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(
        p, "1ms,10, " + appenderRetryMs(raft) + "ms,1000000");
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);
    // Snapshots let Ratis purge its log and bring a far-behind follower or a new member up to date.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, raft.snapshotEveryEntries());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(
        p, (int) Math.min(Integer.MAX_VALUE, raft.snapshotEveryEntries()));
    // A purge keeps the last snapshotEveryEntries entries: a member that was down briefly (a
    // restart, a rolling upgrade) catches up from the log in about a second instead of a snapshot
    // install, which is O(ledger) (every file sent, key lookups rebuilt). The log then holds at
    // most about twice snapshotEveryEntries entries.
    RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, raft.snapshotEveryEntries());
    return p;
  }

  /** The leader's wait between attempts to reach a failing follower (see {@link #properties}). */
  static long appenderRetryMs(NodeConfig.Raft raft) {
    return Math.max(1, Math.min(50, raft.electionTimeoutMinMs() / 4));
  }

  /**
   * Mutual TLS for every Raft connection when TLS is configured: this node presents its certificate
   * and accepts only peers (and clients) whose certificate the cluster CA signed. In Ratis 3.3 the
   * server, admin and client services share the one port, so this also closes raw proposals and
   * configuration changes to anyone without such a certificate.
   */
  private static Parameters parameters(NodeConfig.Security security) {
    Parameters parameters = new Parameters();
    security
        .tls()
        .ifPresent(
            tls ->
                GrpcConfigKeys.TLS.setConf(
                    parameters,
                    new GrpcTlsConfig(
                        tls.keyFile().toFile(),
                        tls.certFile().toFile(),
                        tls.caFile().toFile(),
                        true)));
    return parameters;
  }

  /** How long one attempt of the Raft client may take before it tries another member. */
  static long clientAttemptMs(NodeConfig.Raft raft) {
    return Math.min(raft.requestTimeoutMs(), Math.max(1000, 2 * raft.electionTimeoutMaxMs()));
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
    return leaderId() == null ? noLeader() : batcher.submit(command, clientGone);
  }

  private static <T> CompletableFuture<T> noLeader() {
    return CompletableFuture.failedFuture(
        ErrorCode.NO_LEADER.error("no Raft leader is known; retry shortly"));
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
              RaftClientReply r = checked(reply, error, "write");
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
                    newClient(clientGroup(), properties, parameters, clientLeader, config.raft());
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
   * Completes once this node has applied every write committed before the call (a read barrier,
   * confirmed by the leader: {@link LeaderRead}).
   */
  public CompletableFuture<Void> readBarrier() {
    return leaderId() == null ? noLeader() : readBarriers.await();
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
                return noLeader();
              }
              if (!legacyLeaderSeen.getAndSet(true)) {
                LOG.warn(
                    "the Raft leader {} runs an earlier version: linearizable reads here rely on"
                        + " Ratis's ReadIndex alone until it is upgraded",
                    leaderId());
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
        selfId.toString().equals(leaderId())
            ? submitLocally(readRequest(LeaderRead.REQUEST))
            : client.async().sendReadOnlyUnordered(LeaderRead.REQUEST);
    return first
        .handle((reply, error) -> error == null ? answer(reply) : null)
        .thenCompose(
            answer ->
                answer != null && !(answer instanceof LeaderRead.NotLeading)
                    ? CompletableFuture.completedFuture(answer)
                    : client
                        .async()
                        .sendReadOnlyUnordered(LeaderRead.REQUEST)
                        .handle((reply, error) -> answer(checked(reply, error, "read"))));
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
              checked(reply, error, "read");
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
        .setGroupId(GROUP_ID)
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
    return stateMachine
        .raftApplied()
        .awaitWithin(
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
   * client attempt ({@link #clientAttemptMs}), so the refusal reaches a remote reader before its
   * client gives up on the attempt and sends it again.
   */
  private CompletableFuture<LeaderRead> confirmedReadIndex() {
    CompletableFuture<LeaderRead> answer = new CompletableFuture<>();
    pollConfirmed(
        answer,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(clientAttemptMs(config.raft()) / 2));
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
      return leaderView(server.getDivision(GROUP_ID));
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
    voterSets.add(ids(conf.getCurrentPeers()));
    if (!conf.getPreviousPeers().isEmpty()) {
      voterSets.add(ids(conf.getPreviousPeers())); // a change in progress: both must agree
    }
    var log = division.getRaftLog();
    var last = log.getLastEntryTermIndex();
    return new LeaderConfirmation.View(
        true, voterSets, ages, last == null ? -1 : last.getIndex(), log.getLastCommittedIndex());
  }

  private void pollConfirmed(CompletableFuture<LeaderRead> answer, long deadlineNanos) {
    String waitingFor;
    try {
      var division = server.getDivision(GROUP_ID);
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
            clientSwitches.schedule(
                () -> pollConfirmed(answer, deadlineNanos), 5, TimeUnit.MILLISECONDS);
        return;
      } catch (java.util.concurrent.RejectedExecutionException e) {
        waitingFor = "it is stopping";
      }
    }
    answer.complete(new LeaderRead.Refused(waitingFor));
  }

  private static RaftClientReply checked(RaftClientReply reply, Throwable error, String what) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause == null && reply != null && !reply.isSuccess()) {
      cause = reply.getException();
    }
    if (cause == null) {
      return reply;
    }
    if (cause instanceof LedgerException le) {
      throw le;
    }
    if (cause instanceof NotLeaderException || cause instanceof LeaderNotReadyException) {
      throw ApiError.of(
              ErrorCode.NO_LEADER, "no Raft leader could take the " + what + "; retry shortly")
          .exception();
    }
    // A StateMachineException (a RaftException) stays "outcome unknown": it is also what a
    // client hears when a failed leader could not apply an entry that others will.
    if (cause instanceof StateMachineException
        && String.valueOf(cause.getMessage()).contains(LedgerStateMachine.INSUFFICIENT_STORAGE)) {
      String m = cause.getMessage();
      throw ErrorCode.INSUFFICIENT_STORAGE.error(
          m.substring(m.indexOf(LedgerStateMachine.INSUFFICIENT_STORAGE))
              + "; nothing was written, retry once space is freed");
    }
    if (cause instanceof ResourceUnavailableException) {
      // The leader holds as many pending writes as it takes; this one was not taken.
      throw ErrorCode.OVERLOADED.error(
          "the Raft leader holds as many pending writes as it takes; nothing was written, retry");
    }
    if (cause instanceof RaftException
        || cause instanceof IOException
        || cause instanceof TimeoutException) {
      throw ApiError.of(
              ErrorCode.TIMEOUT,
              "the "
                  + what
                  + " did not complete in time ("
                  + cause.getClass().getSimpleName()
                  + ("read".equals(what)
                      ? "); nothing was changed, retry"
                      : "); its outcome is unknown, look the key's history up before retrying"))
          .exception();
    }
    throw new CompletionException(cause);
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
                    checked(reply, error, "record")
                        .getMessage()
                        .getContent()
                        .asReadOnlyByteBuffer()));
  }

  /** Whether {@code nodeId} is a voter, a listener (non-voting), or not a member. */
  public enum Membership {
    VOTER,
    LISTENER,
    NONE
  }

  public Membership membership(String nodeId) throws IOException {
    RaftServer.Division division = server.getDivision(GROUP_ID);
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
    String leader = leaderId();
    if (leader == null) {
      return Optional.empty();
    }
    GroupInfoReply info = client.getGroupManagementApi(RaftPeerId.valueOf(leader)).info(GROUP_ID);
    OptionalLong member = commitOf(info.getCommitInfos(), nodeId);
    OptionalLong own = commitOf(info.getCommitInfos(), leader);
    return member.isPresent() && own.isPresent()
        ? Optional.of(new CatchUp(member.getAsLong(), own.getAsLong()))
        : Optional.empty();
  }

  private static OptionalLong commitOf(
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
        client.getSnapshotManagementApi().create(true, config.raft().requestTimeoutMs());
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
          record(HeadCheck.toFill()).get(config.raft().requestTimeoutMs(), TimeUnit.MILLISECONDS);
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
    if (!config.node().id().equals(leaderId())) {
      return;
    }
    try {
      for (RaftPeer voter : currentPeers(RaftPeerRole.FOLLOWER)) {
        if (voter.getId().equals(selfId)) {
          continue;
        }
        leadership.handOver(leaderView(), config.raft().requestTimeoutMs());
        RaftClientReply moved =
            client.admin().transferLeadership(voter.getId(), config.raft().requestTimeoutMs());
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
    if (nodeId.equals(leaderId())) {
      if (nodeId.equals(config.node().id())) {
        leadership.handOver(leaderView(), config.raft().requestTimeoutMs());
      } else {
        tellLeaderOfHandover(nodeId);
      }
      // Only from nodeId (Ratis refuses it if another member leads by now): a leader that was
      // not told must not be moved.
      RaftClientReply moved;
      try {
        moved =
            client
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
          client.io().sendReadOnly(LeaderRead.HANDOVER, RaftPeerId.valueOf(leader));
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
    return new ArrayList<>(server.getDivision(GROUP_ID).getRaftConf().getCurrentPeers(role));
  }

  private void setConfiguration(List<RaftPeer> voters, List<RaftPeer> listeners, String what)
      throws IOException {
    RaftClientReply reply =
        client
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
        ids(voters),
        ids(listeners));
  }

  private static List<String> ids(List<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).toList();
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
      return commitOf(server.getDivision(GROUP_ID).getCommitInfos(), leaderId).orElse(-1);
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
    return ids(server.getDivision(GROUP_ID).getRaftConf().getCurrentPeers());
  }

  private static Set<String> ids(java.util.Collection<RaftPeer> peers) {
    Set<String> ids = new TreeSet<>();
    peers.forEach(p -> ids.add(p.getId().toString()));
    return ids;
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
        barrierCompletions.shutdownNow();
        leadership.close();
      }
    }
    LOG.info("Raft member {} stopped", config.node().id());
  }
}
