package io.scribeledger.consensus;

import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.scribeledger.failure.FailStop;
import io.scribeledger.ledger.HeadCheck;
import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.StampedCommand;
import io.scribeledger.ledger.WriteOutcome;
import io.scribeledger.storage.DiskSpace;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis glue for the ledger: the leader stamps each command with its timestamp, every replica
 * applies it to {@link LedgerState}, and a committer thread checkpoints the state (every N entries
 * or T ms) together with the last applied Raft index, so a replay after a crash is exact and the
 * apply thread never waits for a MapDB commit.
 */
public final class LedgerStateMachine extends BaseStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(LedgerStateMachine.class);

  private final LedgerState state;
  private final LedgerSnapshots snapshots = new LedgerSnapshots();
  private volatile SnapshotStats snapshotStats = SnapshotStats.NONE;
  private final NodeConfig.Storage storage;
  private final AppliedIndexWatch watch = new AppliedIndexWatch();

  /** The Raft index applied here, for read barriers (a Raft index, unlike {@link #watch}). */
  private final AppliedIndexWatch raftApplied = new AppliedIndexWatch();

  private final AtomicLong lastStamp = new AtomicLong();
  private final ScheduledExecutorService committer;
  private final AtomicBoolean sealInFlight = new AtomicBoolean();
  // Until the Raft node registers its proposer, a due seal is simply not proposed (and not left
  // in flight for good).
  private volatile Runnable sealProposer = this::sealFinished;
  private volatile long headCheckedSize = -1;
  private volatile Runnable headCheckProposer = () -> {};
  private volatile Consumer<RaftPeerId> leaderListener = leader -> {};
  private volatile Function<LeaderRead.Ask, CompletableFuture<LeaderRead>> leaderReads =
      ask -> CompletableFuture.completedFuture(new LeaderRead.Refused("this node is starting"));
  private final AtomicBoolean dirty = new AtomicBoolean();
  private final AtomicBoolean checkpointQueued = new AtomicBoolean();
  private int sinceCommit;

  /**
   * The ledger's size and the time when the last checkpoint was handed to the committer, or the
   * state was loaded (apply thread; what {@link #catchingUp} counts from).
   */
  private long sizeAtCheckpoint;

  private long checkpointAtNanos;

  /**
   * Whether checkpoints wait because this member applies far behind its commit index (a restart, a
   * pause; see {@link #farBehind}), as the apply thread last decided. A checkpoint holds MapDB's
   * locks while it writes and syncs, and every apply of a key new to the ledger reads MapDB, so on
   * a busy machine each checkpoint stalled a catch-up's applies (docs/ARCHITECTURE.md, "Checkpoints
   * wait while a member catches up"). The Raft log holds every entry a waiting checkpoint would
   * cover, so a crash meanwhile only replays more; and the wait is bounded ({@link
   * #CATCH_UP_CHECKPOINT_FACTOR}, {@link #CATCH_UP_CHECKPOINT_WRITES}, {@link
   * #CATCH_UP_CHECKPOINT_MAX_MS}), which bounds the key lookups held in memory (at most 20,000
   * writes' keys beyond the usual, a few MB with short keys, about 40 MB with the longest).
   */
  private volatile boolean catchingUp;

  /** While catching up, a checkpoint still comes every this many times the usual entries… */
  private static final int CATCH_UP_CHECKPOINT_FACTOR = 10;

  /** …or after this many writes… */
  private static final long CATCH_UP_CHECKPOINT_WRITES = 20_000;

  /**
   * …or this long after the last one (or the load), whichever comes first: a catch-up of a few
   * thousand entries in a cold JVM takes seconds, and a shorter bound ended most of them early.
   */
  private static final long CATCH_UP_CHECKPOINT_MAX_MS = 10_000;

  /** This member's Raft commit index, for the catch-up rule; set by the Raft node. */
  private volatile LongSupplier commitIndex = () -> -1;

  private final FailStop failStop;

  /** This node's free space against its floor: the leader admits every entry against it. */
  private final DiskSpace disk;

  public LedgerStateMachine(
      LedgerState state,
      NodeConfig.Storage storage,
      String nodeId,
      FailStop failStop,
      DiskSpace disk) {
    this.state = state;
    this.storage = storage;
    this.failStop = failStop;
    this.disk = disk;
    this.committer =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("scribe-commit-" + nodeId));
  }

  /**
   * How a refusal for lack of disk space on the leader starts its message; the client side maps it
   * to 507 (Ratis carries the message, not the type, back to a client on another member).
   */
  static final String INSUFFICIENT_STORAGE = "insufficient storage on the Raft leader: ";

  public LedgerState state() {
    return state;
  }

  public AppliedIndexWatch watch() {
    return watch;
  }

  /** Lets a read barrier wait until this member has applied a Raft index. */
  AppliedIndexWatch raftApplied() {
    return raftApplied;
  }

  /**
   * Where this member resumes (a snapshot it loaded or installed). Not an override of {@code
   * setLastAppliedTermIndex}: Ratis's constructor calls that before this class has its fields.
   */
  private void resumeAt(TermIndex snapshot) {
    setLastAppliedTermIndex(snapshot);
    raftApplied.advance(snapshot.getIndex());
  }

  /**
   * Every applied Raft entry comes here: ledger entries, configuration and metadata entries. After
   * a fail-stop the watch stays where the ledger stopped: a later configuration entry must not let
   * a read barrier pass entries the frozen state never applied.
   */
  @Override
  protected boolean updateLastAppliedTermIndex(TermIndex applied) {
    boolean moved = super.updateLastAppliedTermIndex(applied);
    if (!failStop.failed()) {
      raftApplied.advance(applied.getIndex());
    }
    return moved;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    getLifeCycle().transition(LifeCycle.State.STARTING);
    snapshots.init(raftStorage);
    SnapshotInfo latest = snapshotOfCheckpoint(snapshots.getLatestSnapshot());
    if (latest != null) {
      // Ratis resumes applying after the snapshot; apply skips whatever the index already holds.
      // (An index behind the snapshot was restored from it when the state opened.)
      resumeAt(latest.getTermIndex());
    }
    lastStamp.set(state.lastTimestamp());
    watch.advance(state.size());
    countFrom(state.size());
    // Stopped by shutting the committer down on close; the handle is not needed.
    var unused =
        committer.scheduleWithFixedDelay(
            () -> {
              if (!catchingUp || !farBehind(getLastAppliedTermIndex().getIndex())) {
                commitIfDirty();
              }
              maybeSeal(true);
              maybeCheckHead();
            },
            storage.commitIntervalMs(),
            storage.commitIntervalMs(),
            TimeUnit.MILLISECONDS);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
    LOG.info(
        "ledger state loaded: {} entries, Raft index {} applied{}",
        state.size(),
        state.lastAppliedRaftIndex(),
        latest == null ? "" : ", latest snapshot at " + latest.getIndex());
  }

  /**
   * The ledger as opened is its last checkpoint: a consistent state at a committed Raft index,
   * usually past the latest snapshot (a crash leaves up to {@code raft.snapshotEveryEntries}
   * entries after it). Ratis starts applying after its latest snapshot, so without one there it
   * would hand each of those entries to apply again only to be skipped: about a second of a
   * restarted member's catch-up on two cores, before any entry it missed. A snapshot of the state
   * as opened costs a commit of nothing and hard links. It is only a shortcut: below the disk
   * floor, or when it cannot be written, the entries are replayed and skipped as before.
   */
  private SnapshotInfo snapshotOfCheckpoint(SnapshotInfo latest) {
    long index = state.lastAppliedRaftIndex();
    if (index <= (latest == null ? 0 : latest.getIndex())) {
      return latest;
    }
    disk.refresh();
    String notTaken;
    Optional<String> lowOnSpace = disk.belowFloor();
    if (lowOnSpace.isPresent()) {
      notTaken = lowOnSpace.get();
    } else {
      try {
        return take(
            TermIndex.valueOf(state.lastAppliedRaftTerm(), index),
            " (the ledger as opened: Raft resumes after it)");
      } catch (IOException | RuntimeException e) {
        if (state.failed()) {
          throw failStop(index, "taking a snapshot of the ledger as opened", e);
        }
        notTaken = Failures.describe(e);
      }
    }
    LOG.warn(
        "no snapshot of the ledger as opened (Raft index {}): {}; the entries after the latest"
            + " snapshot are replayed",
        index,
        notTaken);
    return snapshots.getLatestSnapshot();
  }

  /**
   * Takes a snapshot at {@code at}, counts it and says so in one line ({@code what} after the
   * index).
   */
  private SnapshotInfo take(TermIndex at, String what) throws IOException {
    long start = System.nanoTime();
    SnapshotInfo taken = snapshots.take(at, state);
    long ms = (System.nanoTime() - start) / 1_000_000;
    snapshotStats = snapshotStats.withTaken(at.getIndex(), snapshots.latestSizeBytes(), ms);
    LOG.info(
        "snapshot at Raft index {}{}: {} entries, {} bytes linked, {} ms",
        at.getIndex(),
        what,
        state.size(),
        snapshots.latestSizeBytes(),
        ms);
    return taken;
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return snapshots;
  }

  public SnapshotStats snapshotStats() {
    return snapshotStats;
  }

  /**
   * Runs on the apply thread between entries, so the state does not move while it is taken: a
   * commit and hard links, whatever the ledger's size (see {@link LedgerState#writeSnapshot}).
   */
  @Override
  public long takeSnapshot() throws IOException {
    TermIndex at = getLastAppliedTermIndex();
    SnapshotInfo latest = snapshots.getLatestSnapshot();
    // After a fail-stop Ratis's applied index runs past entries the frozen ledger never applied
    // (a Raft log failure does not freeze it): a snapshot named after that index would make the
    // restart skip them. Ratis asks for one when the node stops; there is none.
    if (at == null || failStop.failed() || (latest != null && latest.getIndex() >= at.getIndex())) {
      return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
    }
    try {
      take(at, "");
    } catch (Throwable t) {
      throw failStop(at.getIndex(), "taking a snapshot", t);
    }
    return at.getIndex();
  }

  @Override
  public void pause() {
    getLifeCycle().transition(LifeCycle.State.PAUSING);
    getLifeCycle().transition(LifeCycle.State.PAUSED);
  }

  /** Ratis installed a snapshot from the leader into the state-machine directory: load it. */
  @Override
  public void reinitialize() throws IOException {
    getLifeCycle().transition(LifeCycle.State.STARTING);
    snapshots.refresh();
    SnapshotInfo installed = snapshots.getLatestSnapshot();
    try {
      state.restoreFrom(
          snapshots.latestDir().orElseThrow(() -> new IOException("no complete snapshot to load")));
    } catch (Throwable t) {
      throw failStop(
          installed == null ? 0 : installed.getIndex(), "installing the leader's snapshot", t);
    }
    resumeAt(installed.getTermIndex());
    countFrom(state.size());
    lastStamp.accumulateAndGet(state.lastTimestamp(), Math::max);
    watch.advance(state.size());
    snapshotStats = snapshotStats.withInstalled(installed.getIndex(), snapshots.latestSizeBytes());
    getLifeCycle().transition(LifeCycle.State.RUNNING);
    LOG.info(
        "snapshot installed from the leader: Raft index {}, {} entries, key lookups rebuilt",
        installed.getIndex(),
        state.size());
  }

  /**
   * Runs on the leader only: the timestamp is chosen once here and replicated as part of the entry.
   */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) {
    if (request.getMessage().getContent().size() > ConfigResolver.MAX_ENTRY_BYTES) {
      // Every member's log and transport hold entries up to this size; a larger one (a raw
      // proposal, a batch misjudged) would break a follower's log for good. Refused before the log.
      return refused(
          request,
          "entry of "
              + request.getMessage().getContent().size()
              + " bytes is above the cluster's limit of "
              + ConfigResolver.MAX_ENTRY_BYTES);
    }
    // Only the leader starts transactions: a write that reached it through another member (or
    // straight to Raft) is refused before the log when the leader's own disk is below the floor,
    // and counted against it when admitted, so a burst forwarded between two readings of the free
    // space cannot run past the floor (a write admitted at this node's own door is counted twice
    // until the next reading: cautious, never short).
    ByteString body = request.getMessage().getContent();
    boolean headCheck = !body.isEmpty() && CommandCodec.isHeadCheck(body.byteAt(0));
    // A head check is a few dozen bytes, and a leader whose lease lapsed needs one committed before
    // it serves reads again (LeaderConfirmation): the floor, large enough for it, does not refuse
    // it.
    Optional<String> full = headCheck ? Optional.empty() : disk.admit(body.size());
    if (full.isPresent()) {
      return refused(request, INSUFFICIENT_STORAGE + full.get());
    }
    if (headCheck) {
      // Whoever asked (this leader, a member handling a join, a raw Raft client), the check names
      // this leader's applied tree: entries applied here are committed and precede this one in the
      // log, so every replica reaches this entry holding them.
      try {
        long size = state.size();
        body = ByteString.copyFrom(CommandCodec.encode(new HeadCheck(size, state.root(size))));
      } catch (RuntimeException e) {
        return refused(request, "cannot read this leader's tree head: " + e.getMessage());
      }
    }
    long now = lastStamp.accumulateAndGet(System.currentTimeMillis(), Math::max);
    ByteString data = ByteString.copyFrom(CommandCodec.stamp(now)).concat(body);
    return TransactionContext.newBuilder()
        .setStateMachine(this)
        .setClientRequest(request)
        .setLogData(data)
        .build();
  }

  /** A proposal refused before the log: its client gets {@code why}, nothing is appended. */
  private TransactionContext refused(RaftClientRequest request, String why) {
    return TransactionContext.newBuilder()
        .setStateMachine(this)
        .setClientRequest(request)
        .build()
        .setException(new StateMachineException(why));
  }

  /**
   * Applies a committed entry, or fails stop. An entry that cannot be applied is never skipped:
   * this throws, so Ratis's apply thread stops before it counts the entry as applied (a failed
   * future would let it count the entry and go on, and this replica would fork from the others).
   */
  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long term = entry.getTerm();
    long raftIndex = entry.getIndex();
    if (failStop.failed()) {
      // Stopped before (here, or on the committer thread): nothing reaches the frozen state, and
      // nothing is thrown, so Ratis's apply loop can still stop cleanly when the node closes (a
      // throw after a close began leaves it spinning). Nothing is ever persisted again, so the
      // entries Ratis now counts are replayed after the restart.
      return CompletableFuture.failedFuture(
          new IllegalStateException(
              "failed stop earlier; Raft entry " + raftIndex + " not applied"));
    }
    Optional<WriteOutcome> outcome;
    try {
      outcome = decodeAndApply(entry);
    } catch (Throwable t) {
      throw failStop(raftIndex, "applying Raft entry " + raftIndex, t);
    }
    updateLastAppliedTermIndex(term, raftIndex);
    long size = state.size();
    watch.advance(size);
    if (outcome.isPresent()) {
      countForCommit(raftIndex, size);
      if (outcome.get() instanceof WriteOutcome.Sealed sealed) {
        LOG.info(
            "segment {} sealed: entries {}..{}",
            sealed.segment().id(),
            sealed.segment().firstIndex(),
            sealed.segment().lastIndex());
      }
      maybeSeal(false);
    }
    return CompletableFuture.completedFuture(
        outcome
            .map(o -> Message.valueOf(ByteString.copyFrom(OutcomeCodec.encode(o))))
            .orElse(Message.EMPTY));
  }

  /**
   * Applies the entry's command. Bytes that do not decode are recorded as a rejected entry: every
   * replica refuses the same bytes alike, so that is deterministic and need not stop the group.
   */
  private Optional<WriteOutcome> decodeAndApply(LogEntryProto entry) {
    StampedCommand stamped;
    try {
      stamped =
          CommandCodec.decodeStamped(
              entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
    } catch (IllegalArgumentException e) {
      return state.reject(
          entry.getTerm(),
          entry.getIndex(),
          ApiError.of(ErrorCode.INVALID_REQUEST, "malformed log entry: " + e.getMessage()));
    }
    lastStamp.accumulateAndGet(stamped.timestamp(), Math::max);
    return state.apply(entry.getTerm(), entry.getIndex(), stamped);
  }

  /**
   * Trips the node's fail-stop latch (noting a damaged index for the next start) and returns what
   * to throw to Ratis's apply thread.
   */
  private IllegalStateException failStop(long raftIndex, String what, Throwable cause) {
    state.markIfIndexDamaged(cause);
    failStop.fail(what, cause);
    return new IllegalStateException("failed stop at Raft index " + raftIndex, cause);
  }

  /**
   * Set by the Raft node: proposes a {@code SealSegment} through Raft and reports back when it is
   * done.
   */
  void onSealDue(Runnable proposer) {
    this.sealProposer = proposer;
  }

  /**
   * Ratis could not write its log (a full or failing disk): it keeps that log failed for good, so
   * the node can only stop and be restarted once the disk is fixed.
   */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    failStop.fail("writing the Raft log", cause);
  }

  /** Set by the Raft node: told of every leader this member learns of. */
  void onLeaderChanged(Consumer<RaftPeerId> listener) {
    this.leaderListener = listener;
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    leaderListener.accept(newLeaderId);
  }

  void sealFinished() {
    sealInFlight.set(false);
  }

  /**
   * Ledger entries between two head checks a leader proposes on its own, besides the one when it
   * starts leading and the one before each new member: a replica that decided differently is caught
   * within this many entries. Each check costs every replica one small entry.
   */
  static final long HEAD_CHECK_EVERY_ENTRIES = 10_000;

  /**
   * Set by the Raft node: proposes a {@code HeadCheck} (asynchronously; the leader fills in its
   * head when it admits it).
   */
  void onHeadCheckDue(Runnable proposer) {
    this.headCheckProposer = proposer;
  }

  /** Where this member's Raft commit index is read (see {@link #catchingUp}). */
  void onCommitIndex(LongSupplier committed) {
    this.commitIndex = committed;
  }

  /**
   * A new leader has its first entry committed: its head goes into the log at once, so in a group
   * restored from an archive the check comes before almost every write, and a member that received
   * that log without the restored entries stops at it. Called on Ratis's apply thread, which must
   * neither wait (the Raft client can block while its window is full) nor see a throw (it would
   * close the server without a fail-stop): the proposal goes from the committer thread.
   */
  @Override
  public void notifyLeaderReady() {
    proposeHeadCheckSoon();
  }

  /**
   * Proposes a head check from the committer thread, never the caller's (Ratis's, or one that must
   * not wait on the Raft client's window); dropped when closing. A leader whose lease lapsed also
   * uses its commit as the proof that it still leads ({@link LeaderConfirmation}).
   */
  void proposeHeadCheckSoon() {
    onCommitter(this::proposeHeadCheck);
  }

  /**
   * Hands {@code task} to the committer thread; false when the state machine is closing and the
   * task was dropped.
   */
  private boolean onCommitter(Runnable task) {
    try {
      committer.execute(task);
      return true;
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      return false;
    }
  }

  /**
   * Committer thread, on the leader only: a head check every {@link #HEAD_CHECK_EVERY_ENTRIES},
   * counted from the last one proposed (a failed proposal waits for the next interval, so a leader
   * below its disk floor does not retry every tick).
   */
  private void maybeCheckHead() {
    // Counted from this node's first check as leader (proposed once it is ready), never before.
    if (headCheckedSize >= 0
        && isLeader()
        && sizeOrZero() - headCheckedSize >= HEAD_CHECK_EVERY_ENTRIES) {
      proposeHeadCheck();
    }
  }

  private void proposeHeadCheck() {
    if (failStop.failed()) {
      return;
    }
    headCheckedSize = sizeOrZero();
    try {
      headCheckProposer.run();
    } catch (RuntimeException e) {
      LOG.warn("head check not proposed: {}", e.toString());
    }
  }

  /** The ledger's size, or 0 while it cannot be read (a state that failed stop). */
  private long sizeOrZero() {
    try {
      return state.size();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  /**
   * On the leader only: once the active segment is full or old, propose one seal at a time. The age
   * check reads the segment's first entry, so only the periodic timer makes it; each apply checks
   * the size alone.
   */
  private void maybeSeal(boolean checkAge) {
    try {
      long maxAge = checkAge ? storage.segmentMaxAgeMs() : 0;
      // No seal while this leader's disk is below the floor: it would only be refused again.
      if (!isLeader()
          || disk.belowFloor().isPresent()
          || !state.sealDue(maxAge, System.currentTimeMillis())) {
        return;
      }
    } catch (RuntimeException e) {
      return;
    }
    if (sealInFlight.compareAndSet(false, true)) {
      // Proposed from the committer thread, never from Ratis's apply thread: the Raft client blocks
      // a proposal while its window of pending requests is full, and only applying frees it.
      boolean handed =
          onCommitter(
              () -> {
                try {
                  sealProposer.run();
                } catch (RuntimeException e) {
                  sealInFlight.set(false);
                  LOG.warn("segment seal not proposed: {}", e.toString());
                }
              });
      if (!handed) {
        sealInFlight.set(false);
      }
    }
  }

  private boolean isLeader() {
    try {
      return getServer().getNow(null) != null
          && getServer().getNow(null).getDivision(getGroupId()).getInfo().isLeader();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Apply thread: every N entries, asks the committer thread for a checkpoint, unless this member
   * is catching up (within bounds: {@link #catchingUp}); never commits itself.
   */
  private void countForCommit(long raftIndex, long ledgerSize) {
    dirty.set(true);
    sinceCommit++;
    catchingUp =
        farBehind(raftIndex)
            && sinceCommit < CATCH_UP_CHECKPOINT_FACTOR * storage.commitEveryEntries()
            && ledgerSize - sizeAtCheckpoint < CATCH_UP_CHECKPOINT_WRITES
            && System.nanoTime() - checkpointAtNanos
                < TimeUnit.MILLISECONDS.toNanos(CATCH_UP_CHECKPOINT_MAX_MS);
    if (sinceCommit >= storage.commitEveryEntries()
        && !catchingUp
        && checkpointQueued.compareAndSet(false, true)) {
      countFrom(ledgerSize);
      boolean handed =
          onCommitter(
              () -> {
                checkpointQueued.set(false);
                commitIfDirty();
              });
      if (!handed) {
        checkpointQueued.set(false); // closing: close() commits everything
      }
    }
  }

  /**
   * Whether this member's commit index is more than a checkpoint's entries past {@code applied}.
   */
  private boolean farBehind(long applied) {
    return commitIndex.getAsLong() - applied > storage.commitEveryEntries();
  }

  /** Starts counting entries, writes and time towards the next checkpoint (apply thread). */
  private void countFrom(long ledgerSize) {
    sinceCommit = 0;
    sizeAtCheckpoint = ledgerSize;
    checkpointAtNanos = System.nanoTime();
  }

  /** Committer thread: makes the applied state durable while applies go on. */
  private void commitIfDirty() {
    if (!dirty.getAndSet(false) || failStop.failed()) {
      return;
    }
    try {
      state.checkpoint();
    } catch (LedgerState.FailedEarlier stoppedByAnApply) {
      // An apply failed meanwhile and reports its own cause (the ENOSPC an operator must see),
      // which a checkpoint reason reported first would hide.
    } catch (Throwable t) {
      // Never retried: the checkpoint may have left MapDB or a file half-written. The last good
      // checkpoint and the Raft log are what a restart goes on from.
      state.markIfIndexDamaged(t);
      failStop.fail("writing a checkpoint", t);
    }
  }

  /**
   * Read barriers: on the leader, a {@link LeaderRead#REQUEST} gets the index to read from once the
   * leader is confirmed; a {@link LeaderRead#HANDOVER} makes it stop counting earlier answers.
   * Anything else (the empty query of a member of an earlier version, after Ratis's ReadIndex) is
   * answered empty, as before.
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return LeaderRead.ask(request)
        .map(ask -> leaderReads.apply(ask).thenApply(LeaderRead::toMessage))
        .orElseGet(() -> CompletableFuture.completedFuture(Message.EMPTY));
  }

  /**
   * Set by the Raft node: answers what a member asks the leader (confirms this leader and names the
   * index a read barrier waits for; stops counting answers before a handover).
   */
  void onLeaderRead(Function<LeaderRead.Ask, CompletableFuture<LeaderRead>> answerer) {
    this.leaderReads = answerer;
  }

  @Override
  public void close() throws IOException {
    // shutdown, not shutdownNow: an interrupt in the middle of a checkpoint's force() closes the
    // file channel under it (ClosedByInterruptException), and the final commit below would fail.
    committer.shutdown();
    try {
      committer.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      state.close();
    }
    super.close();
  }
}
