package io.scribeledger.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.scribeledger.auth.MemberCertificates;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.consensus.GroupMembership;
import io.scribeledger.consensus.NodeStatus;
import io.scribeledger.consensus.RaftNode;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.scribeledger.failure.FailStop;
import io.scribeledger.ledger.IntegrityScrub;
import io.scribeledger.ledger.MemberRecord;
import io.scribeledger.ledger.RegisterMember;
import io.scribeledger.ledger.RemoveMember;
import io.scribeledger.security.NodeKeys;
import io.scribeledger.service.LedgerRequest.ReadMode;
import io.scribeledger.storage.DiskSpace;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the Raft member, its state machine and the ledger storage, and serves the HTTP verticles'
 * requests from the event bus. Proposals and barriers are asynchronous; index and file reads run on
 * the worker pool, never on the event loop.
 */
public final class LedgerVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(LedgerVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);

  private final NodeConfig config;

  /** A joining node gets this many request timeouts to catch up before the join answers 503. */
  private static final int JOIN_CATCH_UP_FACTOR = 12;

  private RaftNode node;
  private LedgerReads reads;
  private NodeKeys keys;
  private volatile IntegrityScrub.Report lastScrub;
  private DiskSpace disk;
  private long diskTimer = -1;

  /** How often this node checks that the replicated state holds its address and signing key. */
  private static final long REGISTRATION_CHECK_MS = 2_000;

  private long registrationTimer = -1;
  private boolean registering;
  private boolean diskLow;
  private boolean diskChecking;

  /** How often free disk space is read. */
  private static final long DISK_CHECK_MS = 500;

  private MessageConsumer<Object> consumer;

  /** Checks a joining node's certificate; null when TLS is off. */
  private MemberCertificates memberCertificates;

  private final NodeMeters meters;

  /** Where segments this node evicted are read back from, when tiering is on. */
  private final Optional<io.scribeledger.ledger.ColdTier> coldTier;

  public LedgerVerticle(NodeConfig config, MeterRegistry registry) {
    this(config, registry, Optional.empty());
  }

  public LedgerVerticle(
      NodeConfig config,
      MeterRegistry registry,
      Optional<io.scribeledger.ledger.ColdTier> coldTier) {
    this.config = config;
    this.meters = new NodeMeters(registry, config.node().id());
    this.coldTier = coldTier;
  }

  /**
   * Where the node announces that it failed stop (the body is the node id); the launcher listens
   * and exits the process, so that a supervisor restarts it and the restart replays the Raft log.
   */
  public static final String FAILED_ADDRESS = "scribe.node.failed";

  /** The event-bus address of a node's ledger verticle. */
  public static String address(String nodeId) {
    return "scribe.ledger." + nodeId;
  }

  @Override
  public void start(Promise<Void> started) {
    vertx
        .executeBlocking(
            () -> {
              keys =
                  config.security().signingKeyFile().isPresent()
                      ? NodeKeys.load(config.security().signingKeyFile().get())
                      : NodeKeys.loadOrCreate(config.node().dataDir());
              disk =
                  new DiskSpace(
                      RaftNode.writtenDirectories(config.node().dataDir()),
                      config.storage().minFreeBytes());
              FailStop failStop = new FailStop(config.node().id());
              failStop.onFail(
                  fault -> vertx.eventBus().publish(FAILED_ADDRESS, config.node().id()));
              RaftNode raft = RaftNode.start(config, failStop, disk, coldTier);
              reads =
                  new LedgerReads(
                      raft.state(), keys, config.node().clusterId(), config.node().id());
              return raft;
            })
        .onSuccess(
            n -> {
              node = n;
              scrub(false)
                  .onSuccess(
                      r ->
                          LOG.info(
                              "integrity scrub at start: {} sealed segments checked ({} archived"
                                  + " and evicted, checked when read), {}",
                              r.segmentsChecked(),
                              r.archivedNotChecked(),
                              r.clean()
                                  ? "all match the manifest"
                                  : r.problems().size() + " problems"));
              registerGauges(n);
              diskTimer = vertx.setPeriodic(DISK_CHECK_MS, t -> checkDisk());
              registrationTimer =
                  vertx.setPeriodic(REGISTRATION_CHECK_MS, t -> registerOwnRecord());
              memberCertificates =
                  config.security().tls().map(t -> new MemberCertificates(vertx, t)).orElse(null);
              consumer = vertx.eventBus().consumer(address(config.node().id()), this::handle);
              started.complete();
            })
        .onFailure(started::fail);
  }

  /**
   * Reads free space again off the event loop, and says so once when it crosses the floor either
   * way.
   */
  private void checkDisk() {
    if (diskChecking) {
      return; // the last reading has not come back (a hung file system): never queue more
    }
    diskChecking = true;
    vertx
        .executeBlocking(
            () -> {
              disk.refresh();
              Optional<String> low = disk.belowFloor();
              if (low.isPresent()) {
                // A leader that refuses every proposal would stop writes for the whole group:
                // it hands leadership to a member with space (tried on every reading).
                node.group().leaveLeadershipIfLeader("free space below the floor");
              }
              return low;
            })
        .onComplete(done -> diskChecking = false)
        .onSuccess(
            problem -> {
              if (problem.isPresent() && !diskLow) {
                LOG.warn("{}", problem.get());
              } else if (problem.isEmpty() && diskLow) {
                LOG.info(
                    "free space is above the floor again ({} bytes): writes resume",
                    disk.freeBytes());
              }
              diskLow = problem.isPresent();
            });
  }

  @Override
  public void stop(Promise<Void> stopped) {
    vertx.cancelTimer(diskTimer);
    vertx.cancelTimer(registrationTimer);
    if (memberCertificates != null) {
      var unusedClose = memberCertificates.close();
    }
    meters.removeAll();
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    unregistered
        .compose(
            v ->
                vertx.<Void>executeBlocking(
                    () -> {
                      if (node != null) {
                        node.close();
                      }
                      return null;
                    }))
        .onComplete(ar -> stopped.complete());
  }

  private void registerGauges(RaftNode n) {
    // Gauges are read on an event loop: from values published without a lock, never waiting on one
    // (a snapshot restore holds the state's lock for minutes on a large ledger).
    meters.gauge("scribe.ledger.size", "entries in the ledger", () -> n.watch().applied());
    meters.gauge(
        "scribe.restore.remaining.entries",
        "entries whose key lookups a snapshot restore has still to rebuild (0 when none runs)",
        () -> n.state().restoreProgress().map(r -> r.total() - r.done()).orElse(0L));
    meters.gauge(
        "scribe.disk.free.bytes",
        "least free space among the node's data, segment and Raft log directories",
        disk::freeBytes);
    meters.gauge(
        "scribe.ledger.segments",
        "segment files",
        () -> {
          var count = n.state().segmentCountNow();
          return count.isPresent() ? count.getAsLong() : Double.NaN;
        });
    meters.gauge("scribe.raft.term", "current Raft term", () -> n.progress().term());
    meters.gauge("scribe.raft.commit.index", "Raft commit index", () -> n.progress().commitIndex());
    meters.gauge(
        "scribe.raft.applied.index", "Raft applied index", () -> n.progress().appliedIndex());
    meters.gauge(
        "scribe.snapshot.taken", "snapshots taken on this node", () -> n.snapshotStats().taken());
    meters.gauge(
        "scribe.snapshot.installed",
        "snapshots installed from a leader",
        () -> n.snapshotStats().installed());
    meters.gauge(
        "scribe.snapshot.size.bytes",
        "size of the latest snapshot",
        () -> n.snapshotStats().lastSizeBytes());
    meters.gauge(
        "scribe.snapshot.duration.ms",
        "time the latest snapshot took",
        () -> n.snapshotStats().lastDurationMs());
    meters.gauge(
        "scribe.snapshot.index",
        "Raft index of the latest snapshot",
        () -> n.snapshotStats().lastIndex());
    meters.gauge(
        "scribe.integrity.problems",
        "problems found by the last integrity scrub",
        () -> integrityProblems().size());
    meters.gauge(
        "scribe.raft.leader.known",
        "1 when this node knows a leader",
        () -> n.progress().leaderId() != null ? 1 : 0);
  }

  private void handle(Message<Object> message) {
    Future<?> result;
    try {
      result = dispatch((LedgerRequest) message.body());
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(
        ar -> {
          if (ar.succeeded()) {
            message.reply(ar.result(), LOCAL);
          } else {
            message.reply(Failures.toApiError(ar.cause()), LOCAL);
          }
        });
  }

  private Future<?> dispatch(LedgerRequest request) {
    if (request instanceof LedgerRequest.Write w) {
      Optional<String> full = disk.admit(w.command().valueBytes());
      if (full.isPresent()) {
        return Future.failedFuture(ErrorCode.INSUFFICIENT_STORAGE.error(full.get()));
      }
      return Future.fromCompletionStage(node.submit(w.command(), w.clientGone()), context);
    }
    if (request instanceof LedgerRequest.Get g) {
      return ready(g.mode()).compose(v -> blocking(() -> reads.read(g)));
    }
    if (request instanceof LedgerRequest.History h) {
      return ready(h.mode()).compose(v -> blocking(() -> reads.history(h)));
    }
    if (request instanceof LedgerRequest.Head) {
      return linearizable().compose(v -> blocking(reads::head));
    }
    if (request instanceof LedgerRequest.Prove p) {
      return linearizable().compose(v -> blocking(() -> reads.prove(p)));
    }
    if (request instanceof LedgerRequest.Consistency c) {
      return linearizable().compose(v -> blocking(() -> reads.consistency(c)));
    }
    if (request instanceof LedgerRequest.Entries e) {
      return linearizable().compose(v -> blocking(() -> reads.entries(e)));
    }
    if (request instanceof LedgerRequest.Segments) {
      return linearizable().compose(v -> blocking(reads::segments));
    }
    if (request instanceof LedgerRequest.Ready) {
      return readiness();
    }
    if (request instanceof LedgerRequest.Live) {
      return Future.succeededFuture(config.node().id());
    }
    if (request instanceof LedgerRequest.Scrub) {
      return scrub(true);
    }
    if (request instanceof LedgerRequest.Tiering) {
      boolean leader = "LEADER".equals(node.progress().role());
      // A leader reads the manifest after a barrier: every record an earlier leader had committed
      // is applied here, so it never uploads a segment that is archived already.
      Future<Void> current = leader ? linearizable() : Future.succeededFuture();
      return current.compose(v -> blocking(() -> TierView.of(node.state(), leader)));
    }
    if (request instanceof LedgerRequest.Archive a) {
      return Future.fromCompletionStage(node.record(a.record()), context);
    }
    if (request instanceof LedgerRequest.SignedHead h) {
      return blocking(() -> reads.headAt(h.size()));
    }
    if (request instanceof LedgerRequest.Evict e) {
      return blocking(() -> node.state().evict(e.segmentId()));
    }
    if (request instanceof LedgerRequest.Join j) {
      return join(j).map(v -> status());
    }
    if (request instanceof LedgerRequest.Leave l) {
      return blocking(
              () -> {
                node.group().remove(l.nodeId());
                return null;
              })
          // The member is out of the group; its record (address, key) goes too. A node already out
          // (an earlier leave that failed after the removal) still has its record dropped, and the
          // caller still hears that it is no member.
          .compose(
              v -> recorded(new RemoveMember(l.nodeId())),
              e ->
                  Failures.toApiError(e).code() == ErrorCode.NOT_FOUND
                      ? recorded(new RemoveMember(l.nodeId()))
                          .transform(ar -> Future.failedFuture(e))
                      : Future.failedFuture(e))
          .map(v -> status());
    }
    return Future.succeededFuture(status());
  }

  /**
   * Once this node is a member and a leader is known, records its HTTP address and signing key
   * through Raft unless the replicated state already holds them, so that every node lists every
   * member's key (docs/SECURITY.md). Retried on the next check after a failure.
   */
  private void registerOwnRecord() {
    if (registering) {
      return;
    }
    String id = config.node().id();
    String key = Base64.getEncoder().encodeToString(keys.publicKey());
    MemberRecord want = new MemberRecord(config.httpAddress(), key);
    registering = true;
    blocking(
            () ->
                node.progress().leaderId() != null
                    && node.group().membership(id) != GroupMembership.Membership.NONE
                    && !want.equals(node.state().members().get(id)))
        .compose(
            needed ->
                needed
                    ? recorded(new RegisterMember(id, want.httpAddress(), key))
                        .onSuccess(
                            o ->
                                LOG.info(
                                    "registered this node's address and signing key through Raft"))
                        .mapEmpty()
                    : Future.<Void>succeededFuture())
        .onComplete(ar -> registering = false);
  }

  private NodeStatus status() {
    return node.status()
        .withNodeChecks(integrityProblems(), keys.publicKey(), disk.belowFloor().orElse(null));
  }

  /**
   * Registers the newcomer's address, adds it as a listener (it gets the log or a snapshot but does
   * not vote), waits until the leader's Raft state shows it has caught up, then promotes it to
   * voter. Nothing is read from an address the caller names: the caller only names where Raft
   * reaches the node, and with TLS on only a holder of a cluster certificate can answer there.
   * Joining again resumes where a timed-out join stopped.
   */
  /**
   * How long a join may wait for the newcomer to catch up before it answers 503 {@code timeout}.
   */
  static long joinWindowMs(NodeConfig.Raft raft) {
    return JOIN_CATCH_UP_FACTOR * raft.requestTimeoutMs();
  }

  private Future<Void> join(LedgerRequest.Join j) {
    long deadline = System.currentTimeMillis() + joinWindowMs(config.raft());
    // With TLS on, the newcomer first proves it holds the member certificate issued to its name:
    // nothing is recorded or changed for a node that cannot.
    Future<Void> proven =
        memberCertificates == null
            ? Future.succeededFuture()
            : memberCertificates.verify(j.nodeId(), j.raftAddress());
    return proven
        .compose(
            ok ->
                blocking(
                    () -> {
                      GroupMembership.Membership m = node.group().membership(j.nodeId());
                      return new Existing(
                          m,
                          m == GroupMembership.Membership.NONE
                              ? null
                              : knownHttpAddress(j.nodeId()));
                    }))
        .compose(
            existing -> {
              // A join never moves a member: that would let it point clients elsewhere.
              String known = existing.httpAddress();
              GroupMembership.Membership membership = existing.membership();
              if (known != null && !known.equals(j.httpAddress())) {
                return Future.failedFuture(
                    ErrorCode.INVALID_REQUEST.error(
                        j.nodeId()
                            + " is already a member at "
                            + known
                            + "; remove it with /cluster/leave before it joins at another address"));
              }
              return recorded(new RegisterMember(j.nodeId(), j.httpAddress(), ""))
                  // The key stays as the member registered it: it registers its own.
                  .map(r -> membership);
            })
        .compose(
            membership -> {
              if (membership == GroupMembership.Membership.VOTER) {
                return Future.succeededFuture();
              }
              Future<Void> listening =
                  membership == GroupMembership.Membership.LISTENER
                      ? Future.succeededFuture()
                      : blocking(
                          () -> {
                            node.group().addListener(j.nodeId(), j.raftAddress());
                            return null;
                          });
              return listening
                  .compose(v -> awaitCaughtUp(j.nodeId(), deadline))
                  .compose(
                      v ->
                          blocking(
                              () -> {
                                node.group().promote(j.nodeId());
                                return null;
                              }));
            });
  }

  /**
   * Records a member change through Raft; a change the state machine refused (the record breaks the
   * rules every replica checks) fails the future with that refusal.
   */
  private Future<Void> recorded(io.scribeledger.ledger.Proposal change) {
    return Future.fromCompletionStage(node.record(change), context)
        .compose(
            outcome ->
                outcome instanceof io.scribeledger.ledger.WriteOutcome.Rejected rejected
                    ? Future.failedFuture(rejected.error().exception())
                    : Future.<Void>succeededFuture());
  }

  /** What the group knows of a node asking to join: its membership and address, if any. */
  private record Existing(GroupMembership.Membership membership, String httpAddress) {}

  /** Blocking: reads the member list. */
  private String knownHttpAddress(String nodeId) {
    return node.status().members().stream()
        .filter(m -> m.nodeId().equals(nodeId))
        .map(NodeStatus.Member::httpAddress)
        .filter(java.util.Objects::nonNull)
        .findFirst()
        .orElse(null);
  }

  /**
   * Completes once the leader's Raft state shows the newcomer's commit index at the leader's own
   * commit index as it was at the first look (both Raft log indexes, so batches, seals and
   * configuration entries count alike).
   */
  private Future<Void> awaitCaughtUp(String nodeId, long deadline) {
    Promise<Void> caughtUp = Promise.promise();
    pollCaughtUp(nodeId, -1, deadline, caughtUp);
    return caughtUp.future();
  }

  private void pollCaughtUp(String nodeId, long target, long deadline, Promise<Void> caughtUp) {
    blocking(() -> node.group().catchUp(nodeId))
        .onComplete(
            ar -> {
              long goal = target;
              if (ar.succeeded() && ar.result().isPresent()) {
                GroupMembership.CatchUp c = ar.result().get();
                goal = goal < 0 ? c.leaderCommit() : goal;
                if (c.memberCommit() >= goal) {
                  caughtUp.tryComplete();
                  return;
                }
              }
              if (System.currentTimeMillis() > deadline) {
                caughtUp.tryFail(
                    ErrorCode.TIMEOUT.error(
                        "the node joined as a non-voting listener but has not caught up to Raft"
                            + " index "
                            + goal
                            + " yet; it stays a listener: send the join again to promote it once"
                            + " it has"));
              } else {
                long next = goal;
                vertx.setTimer(200, t -> pollCaughtUp(nodeId, next, deadline, caughtUp));
              }
            });
  }

  private <T> Future<T> blocking(java.util.concurrent.Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }

  private Future<Void> linearizable() {
    return ready(new ReadMode.Linearizable());
  }

  /**
   * Recomputes sealed segments from their files (and from their archived copies when {@code
   * withArchived}); problems are logged once and make /health degraded.
   */
  private Future<IntegrityScrub.Report> scrub(boolean withArchived) {
    return blocking(() -> IntegrityScrub.run(node.state(), withArchived))
        .onSuccess(
            report -> {
              lastScrub = report;
              report.problems().forEach(p -> LOG.error("integrity: {}", p));
            });
  }

  private List<String> integrityProblems() {
    IntegrityScrub.Report r = lastScrub;
    return r == null ? List.of() : r.problems();
  }

  /**
   * How long a readiness check waits for its read barrier: a ready node serves one at once, and
   * after a pause of the leader every member's barrier waits about an election timeout for the
   * leader to be confirmed again, which must not take the whole group out of service.
   */
  private long readyBarrierMs() {
    return Math.max(1000, 3 * config.raft().electionTimeoutMinMs());
  }

  /**
   * Ready when the status shows nothing wrong and a linearizable read barrier (the leader's read
   * index, applied here) completes within {@link #readyBarrierMs}: the status alone cannot tell a
   * follower or a leader just resumed from a pause, which still trusts a commit index as old as the
   * pause.
   */
  private Future<Readiness> readiness() {
    NodeStatus s = status();
    Optional<String> reason = s.notReady();
    if (reason.isPresent()) {
      return Future.succeededFuture(new Readiness(s, reason));
    }
    return Future.fromCompletionStage(
            node.readBarrier().orTimeout(readyBarrierMs(), TimeUnit.MILLISECONDS), context)
        .map(v -> new Readiness(s, Optional.<String>empty()))
        .otherwise(
            e ->
                new Readiness(
                    s,
                    Optional.of(
                        "a linearizable read could not be served within "
                            + readyBarrierMs()
                            + " ms: "
                            + Failures.toApiError(e).message())));
  }

  /** Completes when this node's copy is fresh enough for the read mode. */
  private Future<Void> ready(ReadMode mode) {
    if (mode instanceof ReadMode.Stale) {
      return Future.succeededFuture();
    }
    if (mode instanceof ReadMode.Linearizable) {
      return Future.fromCompletionStage(node.readBarrier(), context);
    }
    long index = ((ReadMode.MinIndex) mode).index();
    long timeoutMs = config.http().readTimeoutMs();
    return Future.fromCompletionStage(
        node.watch()
            .awaitWithin(
                index,
                java.time.Duration.ofMillis(timeoutMs),
                () ->
                    ErrorCode.TIMEOUT.error(
                        "this node has not applied index "
                            + index
                            + " within "
                            + timeoutMs
                            + " ms")),
        context);
  }
}
