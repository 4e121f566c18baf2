package io.scribeledger.ledger;

import io.scribeledger.error.Failures;
import io.scribeledger.storage.SegmentStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.mapdb.Atomic;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBException;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * The state machine's key lookups in MapDB: each key's versions and latest entry, the segment
 * manifest, members, and the counters that say how far the state reaches. Entries themselves are
 * found by ledger index in the append-only entry index and segments, Merkle nodes in their own
 * file; MapDB keeps only what needs a lookup by key. Hash maps rather than B-trees: every lookup is
 * by exact key (a key's versions are numbered 1..latest), and a hash map put rewrites a small
 * bucket instead of a whole tree node (measured: bench/ApplyBench.java). Writes become durable only
 * on a {@link Flush}, which writes a batch of applied changes with the last applied Raft index and
 * commits.
 */
public final class LedgerIndex implements AutoCloseable {

  private static final char SEP = '\u0000';

  private final DB db;
  private final Map<String, Long> versions;

  /** Key to the ledger index of its latest version. */
  private final Map<String, Long> latest;

  private final BTreeMap<Long, byte[]> manifest;
  private final BTreeMap<String, String> members;

  /** Each archived segment's object record ({@link SegmentArchived}), by segment id. */
  private final BTreeMap<Long, byte[]> archived;

  private final Atomic.Long size;
  private final Atomic.Long lastAppliedRaftIndex;
  private final Atomic.Long lastAppliedRaftTerm;
  // The counters and key lookups change on every apply in memory; a flush writes them into MapDB
  // and commits, off the apply thread (a MapDB commit syncs its WAL and store: ~100 ms a second's
  // worth).
  private volatile long sizeNow;
  private volatile long lastAppliedIndexNow;
  private volatile long lastAppliedTermNow;
  private final Atomic.Long segmentId;
  private final Atomic.Long segmentLength;

  /**
   * Key lookups applied since the last flush began. Readers look here, then in {@link #flushing},
   * then MapDB.
   */
  private volatile Changes current = new Changes();

  /** The changes a flush is writing into MapDB, or null: cleared only once MapDB holds them. */
  private volatile Flush flushing;

  /** Key lookups applied but not yet in MapDB. */
  private static final class Changes {
    final Map<String, Long> versions = new ConcurrentHashMap<>();
    final Map<String, Long> latest = new ConcurrentHashMap<>();
  }

  /**
   * Everything applied up to one point, on its way into MapDB: {@link #complete} may run on any
   * thread, and runs at most once however many threads ask (a synchronous commit finishes a
   * background flush rather than waiting for it).
   */
  public final class Flush {
    private final Changes changes;
    private final long size;
    private final long raftIndex;
    private final long raftTerm;
    private final SegmentStore.Position position;
    private final Runnable beforeCommit;
    private boolean done;
    private Throwable broken;

    private Flush(Changes changes, SegmentStore.Position position, Runnable beforeCommit) {
      this.changes = changes;
      this.size = sizeNow;
      this.raftIndex = lastAppliedIndexNow;
      this.raftTerm = lastAppliedTermNow;
      this.position = position;
      this.beforeCommit = beforeCommit;
    }

    /**
     * Runs {@code beforeCommit} (making the files the index points into durable), then writes and
     * commits.
     */
    public synchronized void complete() {
      if (done) {
        return;
      }
      if (broken != null) {
        // Never again: a second fsync after a failed one "succeeds" on Linux although the pages
        // it should have written were dropped, and a commit over it would count lost bytes.
        throw new IllegalStateException("a checkpoint failed earlier and is never retried", broken);
      }
      try {
        write();
      } catch (Throwable t) {
        broken = t;
        throw t;
      }
    }

    private void write() {
      beforeCommit.run();
      versions.putAll(changes.versions);
      latest.putAll(changes.latest);
      segmentId.set(position.segmentId());
      segmentLength.set(position.length());
      LedgerIndex.this.size.set(size);
      lastAppliedRaftIndex.set(raftIndex);
      lastAppliedRaftTerm.set(raftTerm);
      db.commit();
      done = true;
      flushing = null;
    }
  }

  /**
   * Opens (or creates) the index at {@code file}.
   *
   * @throws DamagedIndexException when the file cannot be read back as an index (MapDB's
   *     write-ahead log is known to leave a store it cannot reopen after a kill at the wrong
   *     moment); any other failure, such as a file locked by another process or a read error, is
   *     thrown as it is
   */
  public static LedgerIndex open(Path file) {
    DB db;
    try {
      db = maker(file).transactionEnable().make();
    } catch (RuntimeException e) {
      throw classify(file, e);
    }
    try {
      return new LedgerIndex(db);
    } catch (RuntimeException e) {
      try {
        db.close(); // releases the file lock and mappings before the caller moves the file
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw classify(file, e);
    }
  }

  /**
   * A {@link DamagedIndexException} when MapDB failed on the store's bytes — it reported
   * corruption, a truncated file or an unreadable record, or its own code failed while reading (the
   * IndexOutOfBoundsException a damaged write-ahead log gives) — and {@code e} itself otherwise: a
   * file locked by another process, a read error, a store from another MapDB version, or a failure
   * of our own code, none of which a rebuild would mend.
   */
  private static RuntimeException classify(Path file, RuntimeException e) {
    boolean damage = e instanceof DBException ? reportsDamage(e) : thrownInsideMapDb(e);
    return damage ? new DamagedIndexException(file, e) : e;
  }

  /**
   * Whether {@code e} is MapDB reporting damaged bytes: corruption, a truncated or unreadable
   * store.
   */
  private static boolean reportsDamage(Throwable e) {
    return e instanceof DBException.DataCorruption
        || e instanceof DBException.GetVoid
        || e instanceof DBException.VolumeEOF
        || e instanceof DBException.WrongFormat
        || e instanceof DBException.SerializationError;
  }

  /** {@code failure} or the first of its causes that is MapDB reporting damaged bytes, if any. */
  static Optional<Throwable> damageIn(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (reportsDamage(t)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** Whether the first frame outside the JDK that threw {@code e} is MapDB's. */
  private static boolean thrownInsideMapDb(Throwable e) {
    for (StackTraceElement frame : e.getStackTrace()) {
      String c = frame.getClassName();
      if (!c.startsWith("java.") && !c.startsWith("jdk.") && !c.startsWith("kotlin.")) {
        return c.startsWith("org.mapdb.");
      }
    }
    return false;
  }

  /**
   * The index file's content cannot be read back. Everything in it can be rebuilt — the key lookups
   * from the entries, the manifest, members and archive records from the latest snapshot and the
   * Raft log after it — so a node rebuilds rather than stops.
   */
  public static final class DamagedIndexException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DamagedIndexException(Path file, RuntimeException cause) {
      super(file + " cannot be read back: " + Failures.describe(cause), cause);
    }

    DamagedIndexException(Path file, String reason) {
      super(file + " cannot be read back: " + reason);
    }
  }

  /**
   * MapDB memory-mapped (a file channel made every B-tree or bucket read a pread:
   * bench/ApplyBench.java).
   */
  private static DBMaker.Maker maker(Path file) {
    return DBMaker.fileDB(file.toFile()).fileMmapEnableIfSupported().fileMmapPreclearDisable();
  }

  private LedgerIndex(DB db) {
    this.db = db;
    versions =
        db.hashMap("versions", Serializer.STRING, Serializer.LONG).layout(16, 16, 5).createOrOpen();
    latest =
        db.hashMap("latestIndex", Serializer.STRING, Serializer.LONG)
            .layout(16, 16, 5)
            .createOrOpen();
    manifest = db.treeMap("manifest", Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
    members = db.treeMap("members", Serializer.STRING, Serializer.STRING).createOrOpen();
    archived = db.treeMap("archived", Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
    size = db.atomicLong("size").createOrOpen();
    lastAppliedRaftIndex = db.atomicLong("lastAppliedRaftIndex").createOrOpen();
    lastAppliedRaftTerm = db.atomicLong("lastAppliedRaftTerm").createOrOpen();
    segmentId = db.atomicLong("segmentId", 1L).createOrOpen();
    segmentLength = db.atomicLong("segmentLength").createOrOpen();
    sizeNow = size.get();
    lastAppliedIndexNow = lastAppliedRaftIndex.get();
    lastAppliedTermNow = lastAppliedRaftTerm.get();
  }

  /** Receives each entry's key and version, in ledger order, while an index is rebuilt. */
  @FunctionalInterface
  public interface KeySink {
    void entry(String key, long version, long ledgerIndex);
  }

  /**
   * Writes a fresh index at {@code file} for the ledger {@code meta} describes; {@code entries}
   * replays every entry's key into the sink. Without MapDB's write-ahead log (twice as fast): a
   * crash midway leaves a file the caller discards and rebuilds. The counters go in last.
   */
  public static void rebuild(Path file, SnapshotMeta meta, Consumer<KeySink> entries) {
    try (LedgerIndex fresh = new LedgerIndex(maker(file).make())) {
      entries.accept(fresh::rebuildEntry);
      meta.segments().forEach(fresh::addSegment);
      meta.members().forEach((id, stored) -> fresh.putMember(id, MemberRecord.decode(stored)));
      meta.archived().forEach(fresh::putArchived);
      fresh.segmentId.set(meta.position().segmentId());
      fresh.segmentLength.set(meta.position().length());
      fresh.size.set(meta.size());
      fresh.lastAppliedRaftIndex.set(meta.raftIndex());
      fresh.lastAppliedRaftTerm.set(meta.raftTerm());
      fresh.db.commit();
    }
  }

  /** What {@link #append} and a flush do for one entry, straight into MapDB. */
  private void rebuildEntry(String key, long version, long ledgerIndex) {
    Long previous = latest.get(key);
    if (version > 1 && previous == null) {
      throw new IllegalStateException(
          "entry " + ledgerIndex + " is version " + version + " of a key with no earlier entry");
    }
    record(versions, latest, key, version, ledgerIndex, previous == null ? 0 : previous);
  }

  /** Number of entries in the ledger (= the last ledger index). */
  public long size() {
    return sizeNow;
  }

  public long lastAppliedRaftIndex() {
    return lastAppliedIndexNow;
  }

  public long lastAppliedRaftTerm() {
    return lastAppliedTermNow;
  }

  public void setLastApplied(long term, long raftIndex) {
    lastAppliedTermNow = term;
    lastAppliedIndexNow = raftIndex;
  }

  public SegmentStore.Position segmentPosition() {
    return new SegmentStore.Position(segmentId.get(), segmentLength.get());
  }

  /** The ledger index of the latest version of {@code key}, or 0 when it was never written. */
  public long latestIndex(String key) {
    return lookup(key, c -> c.latest, latest);
  }

  /**
   * The ledger index of version {@code version} of {@code key} when it is not the latest one, or 0.
   */
  public long versionIndex(String key, long version) {
    return lookup(versionKey(key, version), c -> c.versions, versions);
  }

  /** Newest layer first: a key's latest change is in the newest layer holding the key. */
  private long lookup(
      String key, Function<Changes, Map<String, Long>> layer, Map<String, Long> stored) {
    Long i = layer.apply(current).get(key);
    if (i == null) {
      Flush f = flushing;
      i = f == null ? null : layer.apply(f.changes).get(key);
    }
    if (i == null) {
      i = stored.get(key);
    }
    return i == null ? 0 : i;
  }

  /**
   * Records that ledger index {@code ledgerIndex}, the new last entry, is version {@code version}
   * of {@code key}, whose previous version was at {@code previousIndex}. Only superseded versions
   * go into the versions map — the latest is found through {@code latestIndex} — so a key's first
   * write costs one map update, not two. The superseded version is recorded first: a concurrent
   * reader finds each version in one map or the other.
   */
  public void append(String key, long version, long ledgerIndex, long previousIndex) {
    Changes c = current;
    record(c.versions, c.latest, key, version, ledgerIndex, previousIndex);
    sizeNow = ledgerIndex;
  }

  private static void record(
      Map<String, Long> versions,
      Map<String, Long> latest,
      String key,
      long version,
      long ledgerIndex,
      long previousIndex) {
    if (version > 1) {
      versions.put(versionKey(key, version - 1), previousIndex);
    }
    latest.put(key, ledgerIndex);
  }

  /**
   * Starts a flush of everything applied so far, or returns the unfinished previous one (a flush
   * that failed, or is still running). The caller holds off applies while it starts one.
   */
  public Flush beginFlush(SegmentStore.Position position, Runnable beforeCommit) {
    Flush unfinished = flushing;
    if (unfinished != null) {
      return unfinished;
    }
    // Publish the flush before swapping in a fresh layer, so a reader always finds a change in one
    // of them.
    Flush flush = new Flush(current, position, beforeCommit);
    flushing = flush;
    current = new Changes();
    return flush;
  }

  /**
   * Finishes a flush that started and has not finished, on this thread if no other is running it.
   */
  public void finishPendingFlush() {
    Flush f = flushing;
    if (f != null) {
      f.complete();
    }
  }

  public void putMember(String nodeId, MemberRecord member) {
    members.put(nodeId, member.encoded());
  }

  public void removeMember(String nodeId) {
    members.remove(nodeId);
  }

  /** The member records by node id. */
  public Map<String, MemberRecord> members() {
    Map<String, MemberRecord> out = new java.util.TreeMap<>();
    members.forEach((id, stored) -> out.put(id, MemberRecord.decode(stored)));
    return out;
  }

  /**
   * Adds a sealed segment to the manifest (keyed by its last index, so a lookup by index is one
   * ceiling).
   */
  public void addSegment(SegmentInfo s) {
    manifest.put(s.lastIndex(), s.encode());
  }

  /** The sealed segment holding ledger index {@code index}, if it is sealed. */
  public Optional<SegmentInfo> segmentContaining(long index) {
    Map.Entry<Long, byte[]> e = manifest.ceilingEntry(index);
    return e == null
        ? Optional.empty()
        : Optional.of(SegmentInfo.decode(e.getValue())).filter(s -> s.contains(index));
  }

  /** The sealed segment with id {@code segmentId}, if it is sealed. */
  public Optional<SegmentInfo> segment(long segmentId) {
    return segments().stream().filter(s -> s.id() == segmentId).findFirst();
  }

  /** Every sealed segment, oldest first. */
  public List<SegmentInfo> segments() {
    List<SegmentInfo> out = new ArrayList<>();
    manifest.values().forEach(v -> out.add(SegmentInfo.decode(v)));
    return out;
  }

  /** Records a segment's archived copy (the caller keeps the first per segment). */
  public void putArchived(SegmentArchived record) {
    archived.put(record.segmentId(), record.encode());
  }

  /** The archived copy of segment {@code segmentId}, if it has one. */
  public Optional<SegmentArchived> archived(long segmentId) {
    byte[] raw = archived.get(segmentId);
    return raw == null
        ? Optional.empty()
        : Optional.of(SegmentArchived.decode(ByteBuffer.wrap(raw)));
  }

  /** Every archived copy, by segment id. */
  public java.util.SortedMap<Long, SegmentArchived> archived() {
    java.util.SortedMap<Long, SegmentArchived> out = new java.util.TreeMap<>();
    archived.forEach((id, raw) -> out.put(id, SegmentArchived.decode(ByteBuffer.wrap(raw))));
    return out;
  }

  /** The last ledger index inside a sealed segment, or 0. */
  public long lastSealedIndex() {
    Long last = manifest.isEmpty() ? null : manifest.lastKey();
    return last == null ? 0 : last;
  }

  private static String versionKey(String key, long version) {
    // Keys cannot contain U+0000, so the separator makes (key, version) pairs unambiguous.
    return key + SEP + version;
  }

  @Override
  public void close() {
    db.close();
  }
}
