package io.scribeledger.ledger;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.storage.Directories;
import io.scribeledger.storage.EntryIndexFile;
import io.scribeledger.storage.FileOpener;
import io.scribeledger.storage.HardLinks;
import io.scribeledger.storage.MerkleNodeFile;
import io.scribeledger.storage.SegmentStore;
import io.scribeledger.storage.ValueLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated ledger: applies commands deterministically (index, version, conditions, tree) and
 * answers reads from the index and segment files. Apply and commit run on the Raft apply thread;
 * reads run on any worker thread.
 */
public final class LedgerState implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LedgerState.class);

  private static final String INDEX_FILE = "state.mapdb";
  private static final String SEGMENTS_DIR = "segments";
  private static final String NODES_FILE = "merkle.nodes";
  private static final String ENTRIES_FILE = "entries.idx";

  /**
   * Present while a restore runs: a node that finds it on start restores again before anything
   * else.
   */
  private static final String RESTORING_FILE = "RESTORING";

  /**
   * Present when the ledger holds entries from before its Raft log began (a restore from an
   * archive): the number of them.
   */
  private static final String BASE_FILE = "ledger.base";

  /** Where the files of an index that could not be read back are kept for a post-mortem. */
  private static final String DAMAGED_DIR = "damaged-index";

  private final Path dataDir;
  private final long segmentSizeBytes;
  private final FileOpener opener;
  // Replaced together when a snapshot is installed; readers always go through the current ones.
  private volatile LedgerIndex index;
  private volatile SegmentStore segments;
  private volatile MerkleNodeFile nodes;
  private volatile EntryIndexFile entries;
  private volatile MerkleTree tree;
  private volatile boolean closed;

  /**
   * Set when an apply or a checkpoint failed part-way: what is in memory may then hold part of an
   * entry, so nothing is applied, committed or read any more, and close() commits nothing. A
   * restart replays the Raft log from the last checkpoint, which never saw the broken entry.
   */
  private volatile boolean failed;

  private boolean restoredAtOpen;
  private final java.util.concurrent.locks.ReentrantReadWriteLock swap =
      new java.util.concurrent.locks.ReentrantReadWriteLock();

  /** Opens the ledger in {@code dataDir} (created if absent), with no snapshot to fall back on. */
  public LedgerState(Path dataDir, long segmentSizeBytes) {
    this(dataDir, segmentSizeBytes, Optional.empty());
  }

  /**
   * Opens the ledger in {@code dataDir}. When its index is behind {@code latestSnapshot} (the index
   * was lost, or a restore was cut short), the state is restored from the snapshot first: opening
   * the files at the index's shorter lengths would cut back files the snapshot shares.
   */
  public LedgerState(Path dataDir, long segmentSizeBytes, Optional<Path> latestSnapshot) {
    this(dataDir, segmentSizeBytes, latestSnapshot, FileOpener.DEFAULT);
  }

  /** As above, appending to segments and index files through channels from {@code opener}. */
  public LedgerState(
      Path dataDir, long segmentSizeBytes, Optional<Path> latestSnapshot, FileOpener opener) {
    this(dataDir, segmentSizeBytes, latestSnapshot, opener, Optional.empty());
  }

  /**
   * As above, reading segments this node evicted back from {@code coldTier} (without one, an
   * evicted segment cannot be read here).
   */
  public LedgerState(
      Path dataDir,
      long segmentSizeBytes,
      Optional<Path> latestSnapshot,
      FileOpener opener,
      Optional<ColdTier> coldTier) {
    this.coldTier = coldTier.orElse(null);
    this.dataDir = dataDir;
    this.opener = opener;
    this.segmentSizeBytes = segmentSizeBytes;
    try {
      Files.createDirectories(dataDir);
      Directories.clear(dataDir.resolve(RECALL_DIR)); // downloads a crash left half-done
      boolean cutShort = Files.exists(dataDir.resolve(RESTORING_FILE));
      if (cutShort && latestSnapshot.isEmpty()) {
        throw new IllegalStateException(
            dataDir
                + " holds a restore that was cut short, and there is no snapshot to finish it from");
      }
      // Read first: an index is never set aside for a snapshot that cannot be restored from.
      Optional<SnapshotMeta> meta =
          latestSnapshot.isEmpty()
              ? Optional.empty()
              : Optional.of(SnapshotMeta.read(latestSnapshot.get()));
      boolean damaged = false;
      if (!cutShort) { // a restore cut short may have left a half-written index: not opened
        try {
          index = LedgerIndex.open(dataDir.resolve(INDEX_FILE));
        } catch (LedgerIndex.DamagedIndexException e) {
          if (meta.isEmpty()) {
            throw e; // the caller knows whether the Raft log can rebuild everything instead
          }
          setDamagedIndexAside(dataDir, e, "restoring from the latest snapshot");
          damaged = true;
        }
      }
      if (meta.isPresent()
          && (cutShort || damaged || index.lastAppliedRaftIndex() < meta.get().raftIndex())) {
        closeStores();
        restoreStores(latestSnapshot.get(), meta.get());
        restoredAtOpen = true;
      } else {
        openFiles(index.segmentPosition(), index.size());
      }
    } catch (IOException | RuntimeException e) {
      closeStoresAfter(e);
      throw e instanceof IOException io
          ? new UncheckedIOException("cannot open the ledger in " + dataDir, io)
          : (RuntimeException) e;
    }
  }

  /** Where the segment files of the ledger in {@code dataDir} live. */
  public static Path segmentsDir(Path dataDir) {
    return dataDir.resolve(SEGMENTS_DIR);
  }

  /** Where this ledger's segment files live. */
  public Path segmentsDir() {
    return segmentsDir(dataDir);
  }

  /** Whether opening found the index behind the latest snapshot and restored from it. */
  public boolean restoredAtOpen() {
    return restoredAtOpen;
  }

  /**
   * Opens the files cut back to a ledger of {@code size} entries whose segments end at {@code
   * position}.
   */
  private void openFiles(SegmentStore.Position position, long size) {
    segments =
        new SegmentStore(
            dataDir.resolve(SEGMENTS_DIR),
            segmentSizeBytes,
            position,
            opener,
            // Without a cold tier an evicted segment cannot come back: reads of it fail at once.
            coldTier == null ? SegmentStore.NO_RECALL : this::recall);
    nodes = new MerkleNodeFile(dataDir.resolve(NODES_FILE), size, opener);
    entries = new EntryIndexFile(dataDir.resolve(ENTRIES_FILE), size, opener);
    tree = new MerkleTree(nodes);
  }

  /**
   * Closes every open store even when one fails, so that no file stays open (and MapDB's file
   * locked) in this JVM, and forgets them.
   */
  private void closeStores() {
    RuntimeException failure = null;
    for (AutoCloseable store : Arrays.asList(segments, nodes, entries, index)) {
      try {
        if (store != null) {
          store.close();
        }
      } catch (Exception e) {
        RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
        if (failure == null) {
          failure = r;
        } else {
          failure.addSuppressed(r);
        }
      }
    }
    segments = null;
    nodes = null;
    entries = null;
    index = null;
    if (failure != null) {
      throw failure;
    }
  }

  /** Closes the stores after {@code failure}, which carries anything closing throws. */
  private void closeStoresAfter(Exception failure) {
    try {
      closeStores();
    } catch (RuntimeException suppressed) {
      failure.addSuppressed(suppressed);
    }
  }

  /**
   * Writes a snapshot of the state into {@code dir}, after a commit: the entry index, the Merkle
   * node file and every segment are hard links (they only grow at their end), and {@link
   * SnapshotMeta} records how far each reaches plus what is not derived from the entries. Costs a
   * commit and a few links whatever the ledger's size. Key lookups are not in it: a restore
   * rebuilds them.
   */
  public synchronized void writeSnapshot(Path dir) throws IOException {
    ensureOpen();
    commit();
    HardLinks.link(dataDir.resolve(NODES_FILE), dir.resolve(NODES_FILE));
    HardLinks.link(dataDir.resolve(ENTRIES_FILE), dir.resolve(ENTRIES_FILE));
    segments.linkTo(Files.createDirectories(dir.resolve(SEGMENTS_DIR)));
    Directories.sync(dir.resolve(SEGMENTS_DIR));
    long size = index.size();
    new SnapshotMeta(
            size,
            index.lastAppliedRaftTerm(),
            index.lastAppliedRaftIndex(),
            segments.position(),
            tree.root(size),
            index.segments(),
            encoded(index.members()),
            List.copyOf(index.archived().values()))
        .write(dir);
  }

  /**
   * Replaces this node's state with a snapshot Ratis installed (this node fell behind the purged
   * log, or is new), under the write lock so that reads see the old state or the new one.
   */
  public synchronized void restoreFrom(Path snapshot) throws IOException {
    // Announced before the lock is taken: status and readiness look here instead of waiting on it.
    restoreProgress = new RestoreProgress(0, 0);
    swap.writeLock().lock();
    try {
      index.finishPendingFlush();
      closeStores();
      restoreStores(snapshot, SnapshotMeta.read(snapshot));
    } catch (IOException | RuntimeException e) {
      closed = true; // half-restored: refuse reads rather than serve a mix
      closeStoresAfter(e);
      throw e;
    } finally {
      restoreProgress = null;
      swap.writeLock().unlock();
    }
  }

  /**
   * Makes the data directory the snapshot's: its files linked in and cut back to the snapshot's
   * lengths, every Merkle node recomputed and checked up to the recorded root, then the key lookups
   * rebuilt from the entries (each entry's header checked against its leaf on the way). Repeatable:
   * a crash midway leaves the marker file, and the next start restores again.
   */
  private void restoreStores(Path snapshot, SnapshotMeta meta) throws IOException {
    Path marker = dataDir.resolve(RESTORING_FILE);
    Files.writeString(marker, snapshot.toString());
    Directories.sync(dataDir);
    deleteIndexFiles();
    HardLinks.replace(snapshot.resolve(NODES_FILE), dataDir.resolve(NODES_FILE));
    HardLinks.replace(snapshot.resolve(ENTRIES_FILE), dataDir.resolve(ENTRIES_FILE));
    SegmentStore.replaceAll(dataDir.resolve(SEGMENTS_DIR), snapshot.resolve(SEGMENTS_DIR));
    Directories.sync(dataDir);
    Directories.sync(dataDir.resolve(SEGMENTS_DIR));
    restoring = meta; // the manifest to recall evicted segments by, until the index is rebuilt
    openFiles(meta.position(), meta.size());
    try {
      if (!Arrays.equals(tree.verifyStored(meta.size()), meta.rootHash())) {
        throw new IllegalStateException("the nodes do not lead to the recorded tree root");
      }
    } catch (IllegalStateException e) {
      throw new IOException("snapshot " + snapshot + " is damaged: " + e.getMessage(), e);
    }
    restoreProgress = new RestoreProgress(0, meta.size());
    long started = System.nanoTime();
    // Segments the snapshot does not hold (evicted to the cold tier) are recalled to read their
    // entries, then dropped again as soon as they are read: a restore never needs the disk space of
    // the whole archive.
    List<SegmentInfo> sealed = meta.segments();
    java.util.Set<Long> recalledOnly = new java.util.HashSet<>();
    sealed.stream().filter(s -> !segments.isLocal(s.id())).forEach(s -> recalledOnly.add(s.id()));
    try {
      LedgerIndex.rebuild(
          dataDir.resolve(INDEX_FILE),
          meta,
          sink -> {
            int next = 0;
            for (long i = 1; i <= meta.size(); i++) {
              EntryRecord entry =
                  record(i)
                      .orElseThrow(
                          () -> new IllegalStateException("the snapshot's entry index ends early"));
              sink.entry(entry.key(), entry.version(), i);
              if (i % PROGRESS_EVERY == 0) {
                reportProgress(i, meta.size(), started);
              }
              while (next < sealed.size() && sealed.get(next).lastIndex() == i) {
                if (recalledOnly.contains(sealed.get(next).id())) {
                  dropRecalled(sealed.get(next).id());
                }
                next++;
              }
            }
          });
    } finally {
      restoreProgress = null;
    }
    index = LedgerIndex.open(dataDir.resolve(INDEX_FILE));
    restoring = null;
    Files.delete(marker);
    Directories.sync(dataDir);
  }

  private void dropRecalled(long segmentId) {
    try {
      segments.evict(segmentId);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot drop recalled segment " + segmentId, e);
    }
  }

  /** How far a restore has rebuilt the key lookups: entries done of the snapshot's total. */
  public record RestoreProgress(long done, long total) {}

  /** Entries between progress updates (a volatile write; a log line at most every 5 s). */
  private static final long PROGRESS_EVERY = 10_000;

  private static final long PROGRESS_LOG_NANOS = 5_000_000_000L;

  private volatile RestoreProgress restoreProgress;
  private long lastProgressLog;

  private void reportProgress(long done, long total, long startedAt) {
    restoreProgress = new RestoreProgress(done, total);
    long now = System.nanoTime();
    if (now - Math.max(startedAt, lastProgressLog) >= PROGRESS_LOG_NANOS) {
      lastProgressLog = now;
      LOG.info("restoring from a snapshot: key lookups rebuilt for {} of {} entries", done, total);
    }
  }

  /** The restore under way, if one is; read without a lock, so a restore never blocks it. */
  public Optional<RestoreProgress> restoreProgress() {
    return Optional.ofNullable(restoreProgress);
  }

  /**
   * Moves a damaged index's files into {@link #DAMAGED_DIR} (replacing what an earlier damage left
   * there) for a post-mortem, and says what rebuilds it: {@code next}.
   */
  private static void setDamagedIndexAside(
      Path dataDir, LedgerIndex.DamagedIndexException damage, String next) throws IOException {
    Path aside = dataDir.resolve(DAMAGED_DIR);
    Directories.clear(aside);
    Files.createDirectories(aside);
    for (Path f : indexFiles(dataDir)) {
      Files.move(f, aside.resolve(f.getFileName()));
    }
    Directories.sync(aside);
    Directories.sync(dataDir);
    LOG.warn("{}; moved to {} and {}", damage.getMessage(), aside, next);
  }

  /**
   * For a ledger whose index is damaged and that has no snapshot, while the Raft log still holds
   * every entry from the first: sets the index aside and empties the ledger's files, so that the
   * ledger opens empty and Raft's replay of the whole log rebuilds it exactly as every replica has
   * it. The caller checks the log first; without it this would lose the ledger.
   */
  public static void clearForFullReplay(Path dataDir, LedgerIndex.DamagedIndexException damage)
      throws IOException {
    if (Files.exists(dataDir.resolve(BASE_FILE))) {
      throw new IllegalStateException(
          damage.getMessage()
              + "; this ledger was rebuilt from an archive before its Raft log began, and has no"
              + " snapshot yet: the log alone cannot rebuild it. In a group of several, remove this"
              + " member (POST /cluster/leave) and add it back with an empty data directory (it"
              + " receives a snapshot first); alone, restore from the archive again (entries not"
              + " archived since are lost)");
    }
    setDamagedIndexAside(
        dataDir, damage, "rebuilding the ledger by replaying the whole Raft log (no snapshot)");
    Files.deleteIfExists(dataDir.resolve(ENTRIES_FILE));
    Files.deleteIfExists(dataDir.resolve(NODES_FILE));
    Directories.clear(dataDir.resolve(SEGMENTS_DIR));
    Directories.sync(dataDir);
  }

  private static List<Path> indexFiles(Path dataDir) throws IOException {
    try (var files = Files.list(dataDir)) {
      return files.filter(p -> p.getFileName().toString().startsWith(INDEX_FILE)).toList();
    }
  }

  private void deleteIndexFiles() throws IOException {
    for (Path f : indexFiles(dataDir)) {
      Files.delete(f);
    }
  }

  /** Entries applied; still answers after a fail-stop, so the node can report how far it got. */
  public long size() {
    return describeLocked(() -> index.size());
  }

  /**
   * Runs a read against the current stores. A snapshot install swaps the stores under the write
   * lock, so a read sees the old state or the new one, never a closed one.
   */
  private <T> T readLocked(java.util.function.Supplier<T> read) {
    return describeLocked(
        () -> {
          ensureNotFailedForReads();
          return read.get();
        });
  }

  /** Like {@link #readLocked} for counts that describe the state, which a failed node reports. */
  private <T> T describeLocked(java.util.function.Supplier<T> read) {
    swap.readLock().lock();
    try {
      ensureOpen();
      return read.get();
    } finally {
      swap.readLock().unlock();
    }
  }

  /**
   * Reads after close (shutdown, or Ratis stopping a failed state machine) are refused, not
   * crashed.
   */
  private void ensureOpen() {
    if (closed) {
      throw ApiError.of(ErrorCode.UNAVAILABLE, "the ledger state is closed on this node")
          .exception();
    }
  }

  private void ensureNotFailedForReads() {
    if (failed) {
      throw ApiError.of(
              ErrorCode.UNAVAILABLE,
              "this node failed stop and serves nothing until it restarts; read from another"
                  + " replica")
          .exception();
    }
  }

  /**
   * Segment files now, or empty when a restore holds the state or it is closed: never waits, for
   * gauges read on an event loop.
   */
  public OptionalLong segmentCountNow() {
    if (!swap.readLock().tryLock()) {
      return OptionalLong.empty();
    }
    try {
      return closed ? OptionalLong.empty() : OptionalLong.of(segments.count());
    } finally {
      swap.readLock().unlock();
    }
  }

  /** Number of segment files, the active one included. */
  public long segmentCount() {
    return describeLocked(
        () -> {
          return segments.count();
        });
  }

  public long lastAppliedRaftIndex() {
    return index.lastAppliedRaftIndex();
  }

  public long lastAppliedRaftTerm() {
    return index.lastAppliedRaftTerm();
  }

  /** Timestamp of the last entry, so a new leader never stamps before it. */
  public long lastTimestamp() {
    return record(index.size()).map(EntryRecord::timestamp).orElse(0L);
  }

  /**
   * Applies the command at Raft position (term, raftIndex). A Raft entry at or below the last
   * applied one is skipped (replay after restart), which returns empty.
   */
  public synchronized Optional<WriteOutcome> apply(
      long term, long raftIndex, StampedCommand stamped) {
    ensureNotFailed();
    try {
      return applyOnce(term, raftIndex, stamped);
    } catch (Throwable t) {
      // Under the lock: no checkpoint can take a layer that holds part of this entry.
      failed = true;
      throw t;
    }
  }

  private Optional<WriteOutcome> applyOnce(long term, long raftIndex, StampedCommand stamped) {
    if (raftIndex <= index.lastAppliedRaftIndex()) {
      return Optional.empty();
    }
    WriteOutcome outcome;
    if (stamped.proposal() instanceof Command command) {
      outcome = decide(stamped.timestamp(), command);
    } else if (stamped.proposal() instanceof Batch batch) {
      List<WriteOutcome> outcomes = new java.util.ArrayList<>(batch.commands().size());
      for (Command command : batch.commands()) {
        outcomes.add(decide(stamped.timestamp(), command));
      }
      outcome = new WriteOutcome.Batched(outcomes);
    } else if (stamped.proposal() instanceof HeadCheck check) {
      // Writes nothing: the next checkpoint records the applied Raft index, as for writes.
      outcome = confirm(check);
    } else {
      // Members and the manifest are written to MapDB directly, so the commits around them keep
      // them in the same commit as the Raft index that made them (a replay never sees them early).
      commit();
      if (stamped.proposal() instanceof RegisterMember member) {
        Optional<String> problem = MemberRules.problem(member);
        if (problem.isPresent()) {
          // Held to the rules HTTP input is: every replica refuses the same record alike.
          outcome =
              new WriteOutcome.Rejected(ApiError.of(ErrorCode.INVALID_REQUEST, problem.get()));
        } else {
          // A record without a key (a join names only the address) keeps the key the member
          // registered itself.
          MemberRecord known = index.members().get(member.nodeId());
          String key =
              member.publicKey().isEmpty() && known != null
                  ? known.publicKey()
                  : member.publicKey();
          index.putMember(member.nodeId(), new MemberRecord(member.httpAddress(), key));
          outcome = new WriteOutcome.Registered();
        }
      } else if (stamped.proposal() instanceof RemoveMember removed) {
        index.removeMember(removed.nodeId());
        outcome = new WriteOutcome.Registered();
      } else if (stamped.proposal() instanceof SegmentArchived archived) {
        outcome = archive(archived);
      } else {
        outcome = seal(stamped.timestamp());
      }
      index.setLastApplied(term, raftIndex);
      commit();
      return Optional.of(outcome);
    }
    index.setLastApplied(term, raftIndex);
    return Optional.of(outcome);
  }

  /**
   * Throws {@link HistoryMismatch} (the apply then fails stop) unless this replica's tree at the
   * check's size has the check's root. Every replica that applied the same entries before it holds
   * the same tree, so they all decide alike; one that differs stops before it answers for entries
   * the others do not have.
   */
  private WriteOutcome confirm(HeadCheck check) {
    long size = index.size();
    if (size < check.size()) {
      throw new HistoryMismatch(
          check,
          "this replica holds only " + size + " entries: entries before its log are missing");
    }
    byte[] here = tree.root(check.size());
    if (!java.security.MessageDigest.isEqual(here, check.root())) {
      throw new HistoryMismatch(check, "this replica's root there is " + Hashes.hex(here));
    }
    return new WriteOutcome.HeadConfirmed();
  }

  /**
   * A replica's tree differs from the head its leader proposed: going on would answer for another
   * history than the group's, so the apply fails stop. The member needs the group's state again
   * (removed and added back, which sends it the leader's snapshot).
   */
  public static final class HistoryMismatch extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    HistoryMismatch(HeadCheck check, String detail) {
      super(
          "the leader's tree at size "
              + check.size()
              + " has root "
              + Hashes.hex(check.root())
              + ", but "
              + detail
              + "; stopping instead of forking (remove this member with /cluster/leave and add it"
              + " again)");
    }
  }

  /**
   * Makes the ledger count no Raft entry: after a rebuild from the archive ({@link SegmentReplay})
   * a new Raft group's log, from index 1, applies on top of it. Leaves {@link #BASE_FILE} behind:
   * the Raft log then no longer holds every entry from its first, so it can never rebuild this
   * ledger alone ({@link #clearForFullReplay} refuses).
   */
  public synchronized void startNewRaftLog() throws IOException {
    ensureNotFailed();
    index.setLastApplied(0, 0);
    commit();
    Directories.replaceDurably(
        dataDir.resolve(BASE_FILE),
        Long.toString(index.size()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  /** Records a Raft entry that carried nothing for the ledger (e.g. an undecodable one). */
  public synchronized Optional<WriteOutcome> reject(long term, long raftIndex, ApiError error) {
    ensureNotFailed();
    if (raftIndex <= index.lastAppliedRaftIndex()) {
      return Optional.empty();
    }
    index.setLastApplied(term, raftIndex);
    return Optional.of(new WriteOutcome.Rejected(error));
  }

  private WriteOutcome decide(long timestamp, Command command) {
    String key = command.key();
    Optional<String> problem = EntryRules.problem(command);
    if (problem.isPresent()) {
      // Deterministic: the same fixed rules on every replica, so all refuse it alike.
      return new WriteOutcome.Rejected(
          ApiError.of(
              KeyRules.problem(key, KeyRules.MAX_KEY_BYTES).isPresent()
                  ? ErrorCode.INVALID_KEY
                  : ErrorCode.INVALID_REQUEST,
              problem.get()));
    }
    // Decided from the entry index and the Merkle leaves alone: the apply path never reads a
    // segment,
    // so a damaged segment on one replica cannot make its decisions differ from the others'.
    long latestIndex = index.latestIndex(key);
    Optional<EntryIndexFile.Slot> latest =
        latestIndex == 0 ? Optional.empty() : entries.get(latestIndex);
    long latestVersion = latest.map(EntryIndexFile.Slot::version).orElse(0L);
    boolean live = latest.map(slot -> slot.opCode() == Op.PUT.code()).orElse(false);
    Condition condition = command.condition();
    if (condition instanceof Condition.IfAbsent && live) {
      return new WriteOutcome.Rejected(
          ApiError.of(
              ErrorCode.PRECONDITION_FAILED,
              "If-None-Match: * but the key has a live value at version " + latestVersion));
    }
    if (condition instanceof Condition.IfMatch m
        && (latest.isEmpty() || !Arrays.equals(nodes.get(0, latestIndex - 1), m.leafHash()))) {
      return new WriteOutcome.Rejected(
          ApiError.of(
              ErrorCode.PRECONDITION_FAILED, "If-Match does not match the key's latest version"));
    }
    if (command instanceof Command.Delete && !live) {
      return new WriteOutcome.Rejected(
          latest.isPresent()
              ? new ApiError(
                  ErrorCode.DELETED, "key was deleted at index " + latestIndex, latestIndex)
              : ApiError.of(ErrorCode.NOT_FOUND, "key has never been written"));
    }
    return new WriteOutcome.Applied(append(timestamp, command, latestVersion + 1, latestIndex));
  }

  private Receipt append(long timestamp, Command command, long version, long previousIndex) {
    long ledgerIndex = index.size() + 1;
    byte[] value = command instanceof Command.Put p ? p.value() : new byte[0];
    Op op = command instanceof Command.Put ? Op.PUT : Op.DELETE;
    String contentType = command instanceof Command.Put p ? p.contentType() : "";
    byte[] valueSha = Hashes.sha256(value);
    CanonicalEntry canonical =
        new CanonicalEntry(ledgerIndex, timestamp, op, command.key(), contentType, valueSha);
    byte[] header = canonical.encode();
    byte[] leaf = Hashes.leafHash(header);
    ValueLocation location = segments.append(header, value);
    entries.append(
        ledgerIndex, new EntryIndexFile.Slot(location, header.length, version, op.code()));
    byte[] root = tree.append(ledgerIndex - 1, leaf);
    // Last: this publishes the entry (the ledger size and the key's latest index) to readers, who
    // take no lock against applies; before it they could find an entry whose Merkle leaf was not
    // stored yet (a 503 "failed its integrity check", or a head that could not be computed).
    index.append(command.key(), version, ledgerIndex, previousIndex);
    return new Receipt(
        command.key(), op, version, ledgerIndex, timestamp, valueSha, leaf, ledgerIndex, root);
  }

  /** Closes the active segment after the last applied entry and records it in the manifest. */
  private WriteOutcome seal(long timestamp) {
    long first = index.lastSealedIndex() + 1;
    long last = index.size();
    if (last < first) {
      return new WriteOutcome.Rejected(
          ApiError.of(ErrorCode.INVALID_REQUEST, "the active segment is empty"));
    }
    byte[] root = tree.rangeHash(first - 1, last - first + 1);
    SegmentStore.Position closed = segments.roll();
    SegmentInfo info =
        new SegmentInfo(closed.segmentId(), first, last, root, closed.length(), timestamp);
    index.addSegment(info);
    return new WriteOutcome.Sealed(info);
  }

  /**
   * Records a segment's archived copy; the first record per segment is kept (a second upload, by a
   * leader after a failover, wrote the same content-derived key). Refused alike on every replica
   * when malformed or when the segment is not sealed.
   */
  private WriteOutcome archive(SegmentArchived record) {
    Optional<String> problem = record.problem();
    if (problem.isEmpty() && index.segment(record.segmentId()).isEmpty()) {
      problem = Optional.of("segment " + record.segmentId() + " is not sealed");
    }
    if (problem.isPresent()) {
      return new WriteOutcome.Rejected(ApiError.of(ErrorCode.INVALID_REQUEST, problem.get()));
    }
    Optional<SegmentArchived> earlier = index.archived(record.segmentId());
    if (earlier.isPresent()) {
      return new WriteOutcome.Archived(earlier.get(), false);
    }
    index.putArchived(record);
    return new WriteOutcome.Archived(record, true);
  }

  /**
   * Whether the leader should propose a seal: the active segment is full, or its oldest entry is
   * too old.
   */
  public boolean sealDue(long maxAgeMs, long now) {
    return readLocked(
        () -> {
          long first = index.lastSealedIndex() + 1;
          if (first > index.size()) {
            return false;
          }
          return segments.full()
              || (maxAgeMs > 0
                  && record(first).map(e -> now - e.timestamp() >= maxAgeMs).orElse(false));
        });
  }

  /** The replicated member records (address and signing key), by node id. */
  public java.util.Map<String, MemberRecord> members() {
    return readLocked(
        () -> {
          return index.members();
        });
  }

  private static java.util.Map<String, String> encoded(
      java.util.Map<String, MemberRecord> members) {
    java.util.Map<String, String> out = new java.util.TreeMap<>();
    members.forEach((id, m) -> out.put(id, m.encoded()));
    return out;
  }

  public List<SegmentInfo> segments() {
    return readLocked(
        () -> {
          return index.segments();
        });
  }

  public Optional<SegmentInfo> segmentContaining(long ledgerIndex) {
    return readLocked(
        () -> {
          return index.segmentContaining(ledgerIndex);
        });
  }

  /** The archived copies of sealed segments in the committed manifest, by segment id. */
  public java.util.SortedMap<Long, SegmentArchived> archivedSegments() {
    return readLocked(() -> index.archived());
  }

  /** Sealed segment files on this node's disk (evicted ones are not). Blocking. */
  public List<SegmentStore.LocalSegment> localSealedSegments() {
    return readLocked(() -> segments.localSealed());
  }

  /** Where evicted segments are read back from; null: they cannot be read on this node. */
  private final ColdTier coldTier;

  /** Set while a restore rebuilds the index: the manifest that recalls look segments up in. */
  private volatile SnapshotMeta restoring;

  /** Recalls under way, by segment id: readers of one segment wait for one download. */
  private final java.util.concurrent.ConcurrentHashMap<
          Long, java.util.concurrent.CompletableFuture<Void>>
      recalls = new java.util.concurrent.ConcurrentHashMap<>();

  private static final String RECALL_DIR = "recall";

  /** A sealed segment and its archived copy, as the manifest has them. */
  private record ArchivedCopy(SegmentInfo segment, SegmentArchived record) {}

  private Optional<ArchivedCopy> archivedCopy(long segmentId) {
    SnapshotMeta meta = restoring;
    Optional<SegmentInfo> segment =
        meta != null
            ? meta.segments().stream().filter(s -> s.id() == segmentId).findFirst()
            : index.segment(segmentId);
    Optional<SegmentArchived> record =
        meta != null
            ? meta.archived().stream().filter(a -> a.segmentId() == segmentId).findFirst()
            : index.archived(segmentId);
    return segment.flatMap(s -> record.map(r -> new ArchivedCopy(s, r)));
  }

  /**
   * Brings an evicted segment back from the cold tier into {@code target}: downloaded (object size
   * and SHA-256 checked), decompressed, then every record and the Merkle root recomputed against
   * the manifest before the file is moved into place. One download however many readers wait.
   */
  private void recall(long segmentId, Path target) throws IOException {
    java.util.concurrent.CompletableFuture<Void> mine =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.CompletableFuture<Void> running = recalls.putIfAbsent(segmentId, mine);
    if (running != null) {
      try {
        running.join();
        return;
      } catch (java.util.concurrent.CompletionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }
    try {
      if (!Files.exists(target)) {
        fetchChecked(segmentId, target);
        LOG.info("segment {} recalled from the cold tier", segmentId);
      }
      mine.complete(null);
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      recalls.remove(segmentId, mine);
    }
  }

  private void fetchChecked(long segmentId, Path target) throws IOException {
    List<String> problems = new java.util.ArrayList<>();
    Path tmp = fetchToTemp(segmentId, problems);
    if (!problems.isEmpty()) {
      throw new IOException(String.join("; ", problems));
    }
    Directories.moveDurably(tmp, target);
  }

  /**
   * Downloads segment {@code segmentId}'s archived copy into a temporary file and checks it; what
   * is wrong goes into {@code problems} (the file is then deleted and null returned).
   */
  private Path fetchToTemp(long segmentId, List<String> problems) throws IOException {
    ColdTier tier = coldTier;
    Optional<ArchivedCopy> copy = archivedCopy(segmentId);
    if (tier == null || copy.isEmpty()) {
      problems.add(
          "segment "
              + segmentId
              + " is not on this node and "
              + (tier == null
                  ? "no cold tier is configured"
                  : "the manifest has no archived copy"));
      return null;
    }
    Path dir = Files.createDirectories(dataDir.resolve(RECALL_DIR));
    Path tmp = Files.createTempFile(dir, "seg-" + segmentId + "-", ".tmp");
    try {
      tier.download(copy.get().record(), copy.get().segment().sizeBytes(), tmp);
      problems.addAll(
          IntegrityScrub.check(tmp, copy.get().segment()).stream()
              .map(p -> "archived copy " + copy.get().record().objectKey() + ": " + p)
              .toList());
    } catch (IOException | RuntimeException e) {
      problems.add(
          "segment "
              + segmentId
              + ": archived copy "
              + copy.get().record().objectKey()
              + " unusable: "
              + e.getMessage());
    }
    if (!problems.isEmpty()) {
      Files.deleteIfExists(tmp);
      return null;
    }
    return tmp;
  }

  /**
   * Fetches and checks the archived copy of an evicted segment without keeping it (the operator's
   * scrub); what is wrong with it, or nothing.
   */
  List<String> checkArchived(SegmentInfo segment) {
    List<String> problems = new java.util.ArrayList<>();
    try {
      Path tmp = fetchToTemp(segment.id(), problems);
      if (tmp != null) {
        Files.delete(tmp);
      }
    } catch (IOException e) {
      problems.add(
          "segment " + segment.id() + ": cannot check its archived copy: " + e.getMessage());
    }
    return problems;
  }

  /** How long an eviction waits for reads in progress to finish. */
  private static final long EVICT_WAIT_MS = 200;

  /**
   * Removes a sealed segment's file from this node when the committed manifest holds its archived
   * copy and no read is using it: false (nothing done) while reads or a restore hold the state.
   */
  public synchronized boolean evict(long segmentId) throws IOException {
    // Under the monitor: no snapshot links the segment files meanwhile. The write lock, waited for
    // briefly: a steady stream of reads must not starve eviction, and a long recall must not hold
    // new reads up for more than this.
    boolean locked;
    try {
      locked = swap.writeLock().tryLock(EVICT_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    if (!locked) {
      return false; // the next round tries again
    }
    try {
      ensureOpen();
      ensureNotFailedForReads();
      if (index.archived(segmentId).isEmpty() || index.segment(segmentId).isEmpty()) {
        throw new IllegalStateException(
            "segment " + segmentId + " has no archived copy in the manifest: not evicted");
      }
      segments.evict(segmentId);
      return true;
    } finally {
      swap.writeLock().unlock();
    }
  }

  /** Audit path of entry {@code ledgerIndex} in the tree of {@code treeSize} entries. */
  public List<byte[]> inclusionProof(long ledgerIndex, long treeSize) {
    return readLocked(
        () -> {
          return tree.inclusionProof(ledgerIndex - 1, treeSize);
        });
  }

  /** Audit path of entry {@code ledgerIndex} inside its sealed segment's root. */
  public List<byte[]> segmentProof(SegmentInfo segment, long ledgerIndex) {
    return readLocked(
        () -> {
          return tree.inclusionProof(
              ledgerIndex - segment.firstIndex(), segment.firstIndex() - 1, segment.leafCount());
        });
  }

  public List<byte[]> consistencyProof(long first, long second) {
    return readLocked(
        () -> {
          return tree.consistencyProof(first, second);
        });
  }

  /**
   * Runs {@code work} over the segment files (the integrity scrub) while no snapshot install can
   * swap them.
   */
  public <T> T withSegments(java.util.function.Function<SegmentStore, T> work) {
    return readLocked(() -> work.apply(segments));
  }

  /**
   * Makes every applied entry durable before returning: segments, Merkle nodes and entry index
   * first, then the MapDB commit that counts them (on restart each file is cut back to what MapDB
   * counted). Used where the next step needs it: snapshots, seals, member changes, close.
   */
  public synchronized void commit() {
    ensureNotFailed();
    try {
      index.finishPendingFlush();
      index.beginFlush(segments.position(), this::syncFiles).complete();
    } catch (Throwable t) {
      failed = true;
      throw t;
    }
  }

  /**
   * Makes what is applied so far durable without holding up applies: the changes are handed to a
   * flush under the lock, and the slow part (file syncs, MapDB writes and commit) runs on the
   * calling thread after it. Called by the state machine's committer thread.
   */
  public void checkpoint() {
    LedgerIndex.Flush flush;
    synchronized (this) {
      if (closed) {
        return;
      }
      ensureNotFailed();
      flush = index.beginFlush(segments.position(), this::syncFiles);
    }
    try {
      flush.complete();
    } catch (Throwable t) {
      // A half-written MapDB transaction or file sync: never retried, never committed over.
      failed = true;
      throw t;
    }
  }

  /** Whether an apply or a checkpoint failed part-way (see {@link #failed}). */
  public boolean failed() {
    return failed;
  }

  /**
   * Thrown by any use of a state that failed stop earlier: whoever hit the original failure reports
   * it, so this one is never the reason given.
   */
  public static final class FailedEarlier extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    FailedEarlier() {
      super(
          "the ledger state failed stop earlier; only a restart (which replays the Raft log) brings"
              + " it back");
    }
  }

  private void ensureNotFailed() {
    if (failed) {
      throw new FailedEarlier();
    }
  }

  private void syncFiles() {
    segments.force();
    nodes.sync();
    entries.sync();
  }

  public Optional<EntryRecord> entry(long ledgerIndex) {
    return readLocked(() -> record(ledgerIndex));
  }

  /**
   * Entry {@code ledgerIndex} from its slot and its canonical header in the segment. The header
   * must hash to the stored Merkle leaf, so a damaged segment answers 503 rather than a wrong
   * entry.
   */
  private Optional<EntryRecord> record(long ledgerIndex) {
    Optional<EntryIndexFile.Slot> found = entries.get(ledgerIndex);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    EntryIndexFile.Slot slot = found.get();
    byte[] header;
    try {
      header = segments.readHeader(slot.value(), slot.headerLength());
    } catch (UncheckedIOException e) {
      throw damaged("entry", ledgerIndex); // a segment cut short: the bytes are not there
    }
    byte[] leaf = Hashes.leafHash(header);
    CanonicalEntry canonical = null;
    if (java.security.MessageDigest.isEqual(leaf, nodes.get(0, ledgerIndex - 1))) {
      try {
        canonical = CanonicalEntry.decode(header);
      } catch (RuntimeException e) {
        canonical = null;
      }
    }
    if (canonical == null || canonical.index() != ledgerIndex) {
      throw damaged("entry", ledgerIndex);
    }
    return Optional.of(
        new EntryRecord(
            ledgerIndex,
            canonical.timestamp(),
            canonical.op(),
            canonical.key(),
            slot.version(),
            canonical.contentType(),
            slot.value().length(),
            canonical.valueSha256(),
            leaf,
            slot.value()));
  }

  /** A stored entry or value that is missing or does not match its hash: 503, never wrong bytes. */
  private static LedgerException damaged(String part, long ledgerIndex) {
    return ApiError.of(
            ErrorCode.UNAVAILABLE,
            "the stored "
                + part
                + " of index "
                + ledgerIndex
                + " failed its integrity check on this node; read it from another replica")
        .exception();
  }

  public Optional<EntryRecord> latest(String key) {
    return readLocked(
        () -> {
          long i = index.latestIndex(key);
          return i == 0 ? Optional.empty() : record(i);
        });
  }

  public Optional<EntryRecord> version(String key, long version) {
    return readLocked(
        () -> {
          long i = version <= 0 ? 0 : versionsOf(key).indexOf(version);
          return i == 0 ? Optional.empty() : record(i);
        });
  }

  /**
   * The key as it stood at ledger index {@code at}: its last version with an index not above it.
   */
  public Optional<EntryRecord> at(String key, long at) {
    return readLocked(
        () -> {
          KeyVersions versions = versionsOf(key);
          long lo = 1;
          long hi = versions.latestVersion();
          long found = 0;
          while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            if (versions.indexOf(mid) <= at) {
              found = mid;
              lo = mid + 1;
            } else {
              hi = mid - 1;
            }
          }
          return found == 0 ? Optional.<EntryRecord>empty() : record(versions.indexOf(found));
        });
  }

  /** Versions of {@code key} after {@code afterVersion}, oldest first, at most {@code limit}. */
  public List<EntryRecord> history(String key, long afterVersion, int limit) {
    return readLocked(
        () -> {
          List<EntryRecord> out = new java.util.ArrayList<>();
          KeyVersions versions = versionsOf(key);
          for (long v = afterVersion + 1;
              v <= versions.latestVersion() && out.size() < limit;
              v++) {
            record(versions.indexOf(v)).ifPresent(out::add);
          }
          return out;
        });
  }

  /** The latest version number of {@code key}, or 0 when it was never written. */
  public long latestVersion(String key) {
    return readLocked(() -> versionsOf(key).latestVersion());
  }

  private KeyVersions versionsOf(String key) {
    long latest = index.latestIndex(key);
    return new KeyVersions(key, latest, latest == 0 ? 0 : versionAt(latest), index);
  }

  /**
   * Where a key's versions are, as of one look at its latest entry: the latest version is not in
   * the versions map, the earlier ones are. An update records the superseded version before it
   * moves the latest, so a version read through an older look is still in one of them.
   */
  private record KeyVersions(String key, long latestIndex, long latestVersion, LedgerIndex index) {
    /** The ledger index of version {@code version}, or 0. */
    long indexOf(long version) {
      return latestIndex != 0 && version == latestVersion
          ? latestIndex
          : index.versionIndex(key, version);
    }
  }

  /** The key version that entry {@code ledgerIndex} wrote, from its slot. */
  private long versionAt(long ledgerIndex) {
    return entries.get(ledgerIndex).map(EntryIndexFile.Slot::version).orElse(0L);
  }

  /**
   * The value's bytes, refused when they no longer hash to what the entry recorded (disk
   * corruption).
   */
  public byte[] value(EntryRecord record) {
    return readLocked(
        () -> {
          byte[] value;
          try {
            value = record.size() == 0 ? new byte[0] : segments.read(record.location());
          } catch (UncheckedIOException e) {
            throw damaged("value", record.index());
          }
          requireValueHash(Hashes.sha256(value), record);
          return value;
        });
  }

  /**
   * Opens a channel of the caller's own on the segment holding a value, checks the value's bytes
   * through it against the recorded SHA-256 (64 KiB at a time, never the whole value in the heap),
   * and returns it for sending from {@code record.location()}; the caller closes it. Checked and
   * sent through one open file: a snapshot install that links another file under the segment's name
   * does not change what this channel reads. A write into the same file between the check and the
   * send (tampering with the disk) is not caught here; the scrub and the ETag are for that.
   */
  public java.nio.channels.FileChannel valueOnDisk(EntryRecord record) {
    return readLocked(
        () -> {
          java.nio.channels.FileChannel channel;
          try {
            channel = segments.openForSending(record.location());
          } catch (UncheckedIOException e) {
            throw damaged("value", record.index());
          }
          try {
            java.security.MessageDigest digest = Hashes.sha256();
            SegmentStore.readPieces(channel, record.location(), digest::update);
            requireValueHash(digest.digest(), record);
            return channel;
          } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e instanceof UncheckedIOException ? damaged("value", record.index()) : e;
          }
        });
  }

  private static void closeQuietly(java.nio.channels.FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing was written through it
    }
  }

  /** Checks a value's bytes against its recorded SHA-256 without holding them whole. */
  public void checkValue(EntryRecord record) {
    var unused =
        readLocked(
            () -> {
              checkValueUnlocked(record);
              return null;
            });
  }

  private void checkValueUnlocked(EntryRecord record) {
    java.security.MessageDigest digest = Hashes.sha256();
    try {
      if (record.size() > 0) {
        segments.readPieces(record.location(), digest::update);
      }
    } catch (UncheckedIOException e) {
      throw damaged("value", record.index());
    }
    requireValueHash(digest.digest(), record);
  }

  /** Refuses a value whose bytes hash to {@code sha256} unless that is the recorded hash. */
  private void requireValueHash(byte[] sha256, EntryRecord record) {
    if (!java.security.MessageDigest.isEqual(sha256, record.valueSha256())) {
      throw damaged("value", record.index());
    }
  }

  public byte[] root(long treeSize) {
    return readLocked(
        () -> {
          return tree.root(treeSize);
        });
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    swap.writeLock().lock();
    try {
      closed = true;
      try {
        if (!failed) {
          commit();
        }
      } finally {
        closeStores();
      }
    } finally {
      swap.writeLock().unlock();
    }
  }
}
