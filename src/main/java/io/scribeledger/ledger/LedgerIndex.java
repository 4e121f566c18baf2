package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.storage.SegmentStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mapdb.Atomic;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * The state machine's key lookups in MapDB: each key's versions and latest entry, the segment
 * manifest, members, and the counters that say how far the state reaches. Entries themselves are
 * found by ledger index in the append-only entry index and segments, Merkle nodes in their own
 * file; MapDB keeps only what needs a lookup by key. Hash maps rather than B-trees: every lookup is
 * by exact key (a key's versions are numbered 1..latest), and a hash map put rewrites a small bucket
 * instead of a whole tree node (measured: bench/ApplyBench.java). Writes become durable only on
 * {@link #commit}, which the state machine calls in batches together with the last applied Raft index.
 */
public final class LedgerIndex implements AutoCloseable {

  private static final char SEP = '\u0000';

  private final DB db;
  private final Map<String, Long> versions;
  /** Key to the ledger index of its latest version. */
  private final Map<String, Long> latest;
  private final BTreeMap<Long, byte[]> manifest;
  private final BTreeMap<String, String> members;
  private final Atomic.Long size;
  private final Atomic.Long lastAppliedRaftIndex;
  private final Atomic.Long lastAppliedRaftTerm;
  private final Atomic.Long segmentId;
  private final Atomic.Long segmentLength;

  public LedgerIndex(Path file) {
    db = DBMaker.fileDB(file.toFile()).fileMmapEnableIfSupported().fileMmapPreclearDisable().transactionEnable().make();
    versions = db.hashMap("versions", Serializer.STRING, Serializer.LONG).layout(16, 128, 4).createOrOpen();
    latest = db.hashMap("latestIndex", Serializer.STRING, Serializer.LONG).layout(16, 128, 4).createOrOpen();
    manifest = db.treeMap("manifest", Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
    members = db.treeMap("members", Serializer.STRING, Serializer.STRING).createOrOpen();
    size = db.atomicLong("size").createOrOpen();
    lastAppliedRaftIndex = db.atomicLong("lastAppliedRaftIndex").createOrOpen();
    lastAppliedRaftTerm = db.atomicLong("lastAppliedRaftTerm").createOrOpen();
    segmentId = db.atomicLong("segmentId", 1L).createOrOpen();
    segmentLength = db.atomicLong("segmentLength").createOrOpen();
  }

  /** Number of entries in the ledger (= the last ledger index). */
  public long size() {
    return size.get();
  }

  public long lastAppliedRaftIndex() {
    return lastAppliedRaftIndex.get();
  }

  public long lastAppliedRaftTerm() {
    return lastAppliedRaftTerm.get();
  }

  public void setLastApplied(long term, long raftIndex) {
    lastAppliedRaftTerm.set(term);
    lastAppliedRaftIndex.set(raftIndex);
  }

  public SegmentStore.Position segmentPosition() {
    return new SegmentStore.Position(segmentId.get(), segmentLength.get());
  }

  /** The ledger index of the latest version of {@code key}, or 0 when it was never written. */
  public long latestIndex(String key) {
    Long i = latest.get(key);
    return i == null ? 0 : i;
  }

  /** The ledger index of version {@code version} of {@code key}, or 0. */
  public long versionIndex(String key, long version) {
    Long i = versions.get(versionKey(key, version));
    return i == null ? 0 : i;
  }

  /** Records that ledger index {@code ledgerIndex}, the new last entry, is version {@code version} of {@code key}. */
  public void append(String key, long version, long ledgerIndex) {
    versions.put(versionKey(key, version), ledgerIndex);
    latest.put(key, ledgerIndex);
    size.set(ledgerIndex);
  }

  public void putMember(String nodeId, String httpAddress) {
    members.put(nodeId, httpAddress);
  }

  public Map<String, String> members() {
    return Map.copyOf(members);
  }

  /** Adds a sealed segment to the manifest (keyed by its last index, so a lookup by index is one ceiling). */
  public void addSegment(SegmentInfo s) {
    ByteBuffer b = ByteBuffer.allocate(8 * 5 + Hashes.SIZE);
    b.putLong(s.id()).putLong(s.firstIndex()).putLong(s.lastIndex()).put(s.merkleRoot()).putLong(s.sizeBytes())
        .putLong(s.createdAt());
    manifest.put(s.lastIndex(), b.array());
  }

  /** The sealed segment holding ledger index {@code index}, if it is sealed. */
  public Optional<SegmentInfo> segmentContaining(long index) {
    Map.Entry<Long, byte[]> e = manifest.ceilingEntry(index);
    return e == null ? Optional.empty() : Optional.of(decodeSegment(e.getValue())).filter(s -> s.contains(index));
  }

  /** Every sealed segment, oldest first. */
  public List<SegmentInfo> segments() {
    List<SegmentInfo> out = new ArrayList<>();
    manifest.values().forEach(v -> out.add(decodeSegment(v)));
    return out;
  }

  /** The last ledger index inside a sealed segment, or 0. */
  public long lastSealedIndex() {
    Long last = manifest.isEmpty() ? null : manifest.lastKey();
    return last == null ? 0 : last;
  }

  private static SegmentInfo decodeSegment(byte[] raw) {
    ByteBuffer b = ByteBuffer.wrap(raw);
    long id = b.getLong();
    long first = b.getLong();
    long last = b.getLong();
    byte[] root = Bytes.getFixed(b, Hashes.SIZE);
    return new SegmentInfo(id, first, last, root, b.getLong(), b.getLong());
  }

  /** Makes everything since the last commit durable, with the segment position it relies on. */
  public void commit(SegmentStore.Position position) {
    segmentId.set(position.segmentId());
    segmentLength.set(position.length());
    db.commit();
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
