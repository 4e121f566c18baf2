package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.storage.SegmentStore;
import io.scribeledger.storage.ValueLocation;
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
 * The state machine's indexes in MapDB: entries by ledger index, each key's versions, Merkle nodes
 * and the counters that say how far the state reaches. Writes become durable only on
 * {@link #commit}, which the state machine calls in batches together with the last applied Raft index.
 */
public final class LedgerIndex implements AutoCloseable {

  private static final char SEP = '\u0000';

  private final DB db;
  private final BTreeMap<Long, byte[]> entries;
  private final BTreeMap<String, Long> versions;
  private final BTreeMap<String, Long> latest;
  private final BTreeMap<Long, byte[]> treeNodes;
  private final BTreeMap<Long, byte[]> manifest;
  private final BTreeMap<String, String> members;
  private final Atomic.Long size;
  private final Atomic.Long lastAppliedRaftIndex;
  private final Atomic.Long lastAppliedRaftTerm;
  private final Atomic.Long segmentId;
  private final Atomic.Long segmentLength;

  public LedgerIndex(Path file) {
    db = DBMaker.fileDB(file.toFile()).fileChannelEnable().transactionEnable().make();
    entries = db.treeMap("entries", Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
    versions = db.treeMap("versions", Serializer.STRING, Serializer.LONG).createOrOpen();
    latest = db.treeMap("latest", Serializer.STRING, Serializer.LONG).createOrOpen();
    treeNodes = db.treeMap("merkle", Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
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

  public Map<Long, byte[]> treeNodes() {
    return treeNodes;
  }

  public Optional<EntryRecord> entry(long index) {
    byte[] raw = entries.get(index);
    return raw == null ? Optional.empty() : Optional.of(decode(index, raw));
  }

  /** The latest version number of {@code key}, or 0 when it was never written. */
  public long latestVersion(String key) {
    Long v = latest.get(key);
    return v == null ? 0 : v;
  }

  /** The ledger index of version {@code version} of {@code key}, or 0. */
  public long versionIndex(String key, long version) {
    Long i = versions.get(versionKey(key, version));
    return i == null ? 0 : i;
  }

  /** Versions of {@code key} after {@code afterVersion}, oldest first, at most {@code limit}. */
  public List<EntryRecord> versions(String key, long afterVersion, int limit) {
    List<EntryRecord> out = new ArrayList<>();
    for (Long index : versions.subMap(versionKey(key, afterVersion + 1), true, versionKey(key, Long.MAX_VALUE), true)
        .values()) {
      if (out.size() == limit) {
        break;
      }
      entry(index).ifPresent(out::add);
    }
    return out;
  }

  /** Records an appended entry: its record, its key version and the new ledger size. */
  public void append(EntryRecord record) {
    entries.put(record.index(), encode(record));
    versions.put(versionKey(record.key(), record.version()), record.index());
    latest.put(record.key(), record.version());
    size.set(record.index());
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
    // Keys cannot contain U+0000, and the fixed-width version keeps one key's versions in order.
    return key + SEP + String.format("%019d", version);
  }

  private static byte[] encode(EntryRecord r) {
    byte[] key = Bytes.utf8(r.key());
    byte[] ct = Bytes.utf8(r.contentType());
    ByteBuffer b = ByteBuffer.allocate(8 + 1 + Bytes.sizeOf(key) + 8 + Bytes.sizeOf(ct) + 8 + Hashes.SIZE * 2 + 8 + 8 + 4);
    b.putLong(r.timestamp()).put((byte) r.op().code());
    Bytes.put(b, key);
    b.putLong(r.version());
    Bytes.put(b, ct);
    b.putLong(r.size()).put(r.valueSha256()).put(r.leafHash());
    ValueLocation loc = r.location();
    b.putLong(loc.segmentId()).putLong(loc.offset()).putInt(loc.length());
    return b.array();
  }

  private static EntryRecord decode(long index, byte[] raw) {
    ByteBuffer b = ByteBuffer.wrap(raw);
    long timestamp = b.getLong();
    Op op = Op.fromCode(b.get());
    String key = Bytes.getString(b);
    long version = b.getLong();
    String ct = Bytes.getString(b);
    long size = b.getLong();
    byte[] valueSha = Bytes.getFixed(b, Hashes.SIZE);
    byte[] leaf = Bytes.getFixed(b, Hashes.SIZE);
    ValueLocation loc = new ValueLocation(b.getLong(), b.getLong(), b.getInt());
    return new EntryRecord(index, timestamp, op, key, version, ct, size, valueSha, leaf, loc);
  }

  @Override
  public void close() {
    db.close();
  }
}
