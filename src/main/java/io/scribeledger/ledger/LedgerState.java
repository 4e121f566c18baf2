package io.scribeledger.ledger;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.Failures;
import io.scribeledger.storage.Closeables;
import io.scribeledger.storage.Directories;
import io.scribeledger.storage.FileOpener;
import io.scribeledger.storage.SegmentStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated ledger on this node: opens its stores (the key lookups and {@link LedgerFiles}),
 * replaces them with a snapshot, and guards them. Applies (the rules are {@link LedgerApply}) run
 * under its monitor on the Raft apply thread, as does the start of each checkpoint (its file syncs
 * and MapDB commit run after, on the committer thread); reads run on any worker thread under a read
 * lock that a snapshot install takes exclusively; a failure part-way through an apply or a
 * checkpoint freezes it for good (fail-stop).
 */
public final class LedgerState implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LedgerState.class);

  private static final String INDEX_FILE = "state.mapdb";

  /**
   * Present while a restore runs: a node that finds it on start restores again before anything
   * else.
   */
  private static final String RESTORING_FILE = "RESTORING";

  /**
   * Written when MapDB reported damaged bytes while the node ran; named like the index's own files,
   * so it is set aside with them.
   */
  private static final String INDEX_DAMAGED_FILE = INDEX_FILE + ".damaged";

  /**
   * Present when the ledger holds entries from before its Raft log began (a restore from an
   * archive): the number of them.
   */
  private static final String BASE_FILE = "ledger.base";

  /** Where the files of an index that could not be read back are kept for a post-mortem. */
  private static final String DAMAGED_DIR = "damaged-index";

  /** Where segments recalled from the cold tier are downloaded before they are moved into place. */
  private static final String RECALL_DIR = "recall";

  private final Path dataDir;
  private final long segmentSizeBytes;
  private final FileOpener opener;
  // Replaced together when a snapshot is installed; readers always go through the current ones.
  private volatile LedgerIndex index;
  private volatile LedgerFiles files;
  private final SegmentRecall recall;
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
    this.dataDir = dataDir;
    this.opener = opener;
    this.segmentSizeBytes = segmentSizeBytes;
    try {
      Files.createDirectories(dataDir);
      recall = new SegmentRecall(coldTier, dataDir.resolve(RECALL_DIR), this::archivedCopy);
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
          // Checked once the index is open: its file lock keeps a second node started on this
          // directory from setting a live index aside.
          Path damage = dataDir.resolve(INDEX_DAMAGED_FILE);
          if (Files.exists(damage)) {
            closeStores(null);
            throw new LedgerIndex.DamagedIndexException(
                dataDir.resolve(INDEX_FILE),
                "MapDB reported damage when this node last ran (" + Files.readString(damage) + ")");
          }
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
        closeStores(null);
        restoreStores(latestSnapshot.get(), meta.get());
        restoredAtOpen = true;
      } else {
        openFiles(index.segmentPosition(), index.size());
      }
    } catch (IOException | RuntimeException e) {
      closeStores(e);
      throw e instanceof IOException io
          ? new UncheckedIOException("cannot open the ledger in " + dataDir, io)
          : (RuntimeException) e;
    }
  }

  /** Where the segment files of the ledger in {@code dataDir} live. */
  public static Path segmentsDir(Path dataDir) {
    return LedgerFiles.segmentsDir(dataDir);
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
    files =
        LedgerFiles.open(
            dataDir,
            segmentSizeBytes,
            position,
            size,
            opener,
            // Without a cold tier an evicted segment cannot come back: reads of it fail at once.
            recall.enabled() ? recall::recall : SegmentStore.NO_RECALL);
  }

  /**
   * Closes every open store even when one fails, so that no file stays open (and MapDB's file
   * locked) in this JVM, and forgets them. With {@code failure} (one under way, which the caller
   * throws) what closing throws is added to it; without, it is thrown.
   */
  private void closeStores(Exception failure) {
    LedgerFiles open = files;
    LedgerIndex lookups = index;
    files = null;
    index = null;
    Closeables.closeAll(failure, open, lookups);
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
    files.linkInto(dir);
    long size = index.size();
    new SnapshotMeta(
            size,
            index.lastAppliedRaftTerm(),
            index.lastAppliedRaftIndex(),
            files.segments().position(),
            files.tree().root(size),
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
      closeStores(null);
      restoreStores(snapshot, SnapshotMeta.read(snapshot));
    } catch (IOException | RuntimeException e) {
      closed = true; // half-restored: refuse reads rather than serve a mix
      closeStores(e);
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
    LedgerFiles.replaceWithSnapshot(dataDir, snapshot);
    restoring = meta; // the manifest to recall evicted segments by, until the index is rebuilt
    openFiles(meta.position(), meta.size());
    try {
      if (!Arrays.equals(files.tree().verifyStored(meta.size()), meta.rootHash())) {
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
    sealed.stream()
        .filter(s -> !files.segments().isLocal(s.id()))
        .forEach(s -> recalledOnly.add(s.id()));
    try {
      LedgerIndex.rebuild(
          dataDir.resolve(INDEX_FILE),
          meta,
          sink -> {
            int next = 0;
            for (long i = 1; i <= meta.size(); i++) {
              EntryRecord entry =
                  files
                      .record(i)
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
      files.segments().evict(segmentId);
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
   * When {@code failure} is MapDB reporting damaged bytes in the index, records that the next start
   * must set the index aside and rebuild it, as when it cannot be reopened. A kill at the wrong
   * moment can leave a store that reopens yet holds a broken record: reopened as it is, it would
   * fail the same apply at every restart. Best effort: the fail-stop it goes with stands anyway.
   */
  public void markIfIndexDamaged(Throwable failure) {
    Optional<Throwable> damage = LedgerIndex.damageIn(failure);
    if (damage.isEmpty()) {
      return;
    }
    try {
      Directories.replaceDurably(
          dataDir.resolve(INDEX_DAMAGED_FILE),
          (damage.get().getClass().getName() + ": " + Failures.describe(damage.get()))
              .getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "could not record that {} is damaged ({}): remove it by hand before the next start",
          dataDir.resolve(INDEX_FILE),
          Failures.describe(e));
    }
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
    // The note of damage goes last: a crash in between leaves it behind, and the next start sets
    // aside again what is left.
    List<Path> files = new ArrayList<>(indexFiles(dataDir));
    files.sort(Comparator.comparing(f -> f.getFileName().toString().equals(INDEX_DAMAGED_FILE)));
    for (Path f : files) {
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
    LedgerFiles.delete(dataDir);
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
      return closed ? OptionalLong.empty() : OptionalLong.of(files.segments().count());
    } finally {
      swap.readLock().unlock();
    }
  }

  /** Number of segment files, the active one included. */
  public long segmentCount() {
    return describeLocked(() -> files.segments().count());
  }

  public long lastAppliedRaftIndex() {
    return index.lastAppliedRaftIndex();
  }

  public long lastAppliedRaftTerm() {
    return index.lastAppliedRaftTerm();
  }

  /** Timestamp of the last entry, so a new leader never stamps before it. */
  public long lastTimestamp() {
    return files.record(index.size()).map(EntryRecord::timestamp).orElse(0L);
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
    return Optional.of(new LedgerApply(index, files, this::commit).apply(term, raftIndex, stamped));
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
          return files.segments().full()
              || (maxAgeMs > 0
                  && files.record(first).map(e -> now - e.timestamp() >= maxAgeMs).orElse(false));
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
    return readLocked(() -> files.segments().localSealed());
  }

  /** Set while a restore rebuilds the index: the manifest that recalls look segments up in. */
  private volatile SnapshotMeta restoring;

  /** Segment {@code segmentId} and its archived copy in the manifest, if it has one. */
  private Optional<SegmentRecall.ArchivedCopy> archivedCopy(long segmentId) {
    SnapshotMeta meta = restoring;
    Optional<SegmentInfo> segment =
        meta != null
            ? meta.segments().stream().filter(s -> s.id() == segmentId).findFirst()
            : index.segment(segmentId);
    Optional<SegmentArchived> record =
        meta != null
            ? meta.archived().stream().filter(a -> a.segmentId() == segmentId).findFirst()
            : index.archived(segmentId);
    return segment.flatMap(s -> record.map(r -> new SegmentRecall.ArchivedCopy(s, r)));
  }

  /**
   * Fetches and checks the archived copy of an evicted segment without keeping it (the operator's
   * scrub); what is wrong with it, or nothing.
   */
  List<String> checkArchived(SegmentInfo segment) {
    return recall.check(segment);
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
      files.segments().evict(segmentId);
      return true;
    } finally {
      swap.writeLock().unlock();
    }
  }

  /** Audit path of entry {@code ledgerIndex} in the tree of {@code treeSize} entries. */
  public List<byte[]> inclusionProof(long ledgerIndex, long treeSize) {
    return readLocked(() -> files.tree().inclusionProof(ledgerIndex - 1, treeSize));
  }

  /** Audit path of entry {@code ledgerIndex} inside its sealed segment's root. */
  public List<byte[]> segmentProof(SegmentInfo segment, long ledgerIndex) {
    return readLocked(
        () -> {
          return files
              .tree()
              .inclusionProof(
                  ledgerIndex - segment.firstIndex(),
                  segment.firstIndex() - 1,
                  segment.leafCount());
        });
  }

  public List<byte[]> consistencyProof(long first, long second) {
    return readLocked(() -> files.tree().consistencyProof(first, second));
  }

  /**
   * Runs {@code work} over the segment files (the integrity scrub) while no snapshot install can
   * swap them.
   */
  public <T> T withSegments(java.util.function.Function<SegmentStore, T> work) {
    return readLocked(() -> work.apply(files.segments()));
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
      index.beginFlush(files.segments().position(), files::sync).complete();
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
      flush = index.beginFlush(files.segments().position(), files::sync);
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

  public Optional<EntryRecord> entry(long ledgerIndex) {
    return readLocked(() -> files.record(ledgerIndex));
  }

  public Optional<EntryRecord> latest(String key) {
    return readLocked(
        () -> {
          long i = index.latestIndex(key);
          return i == 0 ? Optional.empty() : files.record(i);
        });
  }

  public Optional<EntryRecord> version(String key, long version) {
    return readLocked(
        () -> {
          long i = version <= 0 ? 0 : versionsOf(key).indexOf(version);
          return i == 0 ? Optional.empty() : files.record(i);
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
          return found == 0 ? Optional.<EntryRecord>empty() : files.record(versions.indexOf(found));
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
            files.record(versions.indexOf(v)).ifPresent(out::add);
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
    return new KeyVersions(key, latest, latest == 0 ? 0 : files.versionAt(latest), index);
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

  /**
   * The value's bytes, refused when they no longer hash to what the entry recorded (disk
   * corruption).
   */
  public byte[] value(EntryRecord record) {
    return readLocked(() -> files.value(record));
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
    return readLocked(() -> files.valueOnDisk(record));
  }

  /** Checks a value's bytes against its recorded SHA-256 without holding them whole. */
  public void checkValue(EntryRecord record) {
    var unused =
        readLocked(
            () -> {
              files.checkValue(record);
              return null;
            });
  }

  public byte[] root(long treeSize) {
    return readLocked(() -> files.tree().root(treeSize));
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
        closeStores(null);
      }
    } finally {
      swap.writeLock().unlock();
    }
  }
}
