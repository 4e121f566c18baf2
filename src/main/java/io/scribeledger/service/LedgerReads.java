package io.scribeledger.service;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.EntryRecord;
import io.scribeledger.ledger.LedgerState;
import io.scribeledger.ledger.Op;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.security.NodeKeys;
import io.scribeledger.service.LedgerRequest.Selector;
import io.scribeledger.verify.MerkleVerifier;
import io.scribeledger.verify.TreeHead;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Answers reads and proofs from this node's copy of the ledger. Blocking (MapDB, files): called on
 * the worker pool. Each answer is taken at one tree size, so its parts agree with each other.
 */
public final class LedgerReads {

  private final LedgerState state;
  private final NodeKeys keys;
  private final String nodeId;
  private final String clusterId;

  public LedgerReads(LedgerState state, NodeKeys keys, String clusterId, String nodeId) {
    this.state = state;
    this.keys = keys;
    this.nodeId = nodeId;
    this.clusterId = clusterId;
  }

  private static RuntimeException error(ErrorCode code, String message) {
    return ApiError.of(code, message).exception();
  }

  public ValueRead read(LedgerRequest.Get g) {
    long applied = state.size();
    EntryRecord record = select(g.key(), g.selector(), applied);
    if (record.op() == Op.DELETE) {
      throw new ApiError(
              ErrorCode.DELETED, "key was deleted at index " + record.index(), record.index())
          .exception();
    }
    return new ValueRead(record, body(record, g.withValue()), applied);
  }

  /**
   * Values from this size on are sent from disk (checked 64 KiB at a time, then streamed by the
   * HTTP layer); smaller ones are read whole, which costs less than a file send.
   */
  static final long SENT_FROM_DISK_BYTES = 64 * 1024;

  private ValueBody body(EntryRecord record, boolean withValue) {
    if (!withValue) {
      return new ValueBody.None();
    }
    if (record.size() < SENT_FROM_DISK_BYTES) {
      return new ValueBody.InMemory(state.value(record));
    }
    return new ValueBody.OnDisk(
        state.valueOnDisk(record), record.location().offset(), record.location().length());
  }

  private EntryRecord select(String key, Selector selector, long applied) {
    if (state.latestVersion(key) == 0) {
      throw error(ErrorCode.NOT_FOUND, "key has never been written");
    }
    Optional<EntryRecord> found;
    String missing;
    if (selector instanceof Selector.Version v) {
      found = state.version(key, v.version());
      missing = "key has no version " + v.version();
    } else if (selector instanceof Selector.At a) {
      if (a.index() > applied) {
        throw error(
            ErrorCode.INVALID_REQUEST,
            "at=" + a.index() + " is beyond the ledger (size " + applied + ")");
      }
      found = state.at(key, a.index());
      missing = "key had no version at index " + a.index();
    } else {
      found = state.latest(key);
      missing = "key has never been written";
    }
    return found.orElseThrow(() -> error(ErrorCode.NOT_FOUND, missing));
  }

  public HistoryPage history(LedgerRequest.History h) {
    long applied = state.size();
    if (state.latestVersion(h.key()) == 0) {
      throw error(ErrorCode.NOT_FOUND, "key has never been written");
    }
    List<EntryRecord> versions = state.history(h.key(), h.afterVersion(), h.limit() + 1);
    boolean more = versions.size() > h.limit();
    return new HistoryPage(
        h.key(), more ? versions.subList(0, h.limit()) : versions, more, applied);
  }

  /** The tree head over everything applied here, signed with this node's key. */
  public TreeHead head() {
    return headAt(state.size());
  }

  /** A head over the first {@code size} entries (at most the ledger's size), signed now. */
  public TreeHead headAt(long size) {
    if (size < 0 || size > state.size()) {
      throw new IllegalArgumentException("no tree of " + size + " entries here");
    }
    return keys.sign(clusterId, nodeId, size, state.root(size), System.currentTimeMillis());
  }

  /**
   * A version of a key (a tombstone too: it is an entry like any other) with its proofs. The node
   * checks the value and every proof itself first, so {@code verified: true} is never a guess.
   */
  public Proof prove(LedgerRequest.Prove p) {
    long size = state.size();
    EntryRecord entry = select(p.key(), p.selector(), size);
    state.checkValue(entry);
    TreeHead head = headAt(size);
    List<byte[]> path = state.inclusionProof(entry.index(), size);
    if (!MerkleVerifier.verifyInclusion(
        entry.index() - 1, size, entry.leafHash(), path, head.rootHash())) {
      throw error(
          ErrorCode.UNAVAILABLE,
          "this node's tree does not prove index " + entry.index() + "; its data is damaged");
    }
    Optional<SegmentInfo> segment = state.segmentContaining(entry.index());
    List<byte[]> segmentPath =
        segment.map(s -> state.segmentProof(s, entry.index())).orElse(List.of());
    if (segment.isPresent()
        && !MerkleVerifier.verifyInclusion(
            entry.index() - segment.get().firstIndex(),
            segment.get().leafCount(),
            entry.leafHash(),
            segmentPath,
            segment.get().merkleRoot())) {
      throw error(
          ErrorCode.UNAVAILABLE,
          "segment " + segment.get().id() + " does not prove index " + entry.index());
    }
    return new Proof(entry, path, head, segment.orElse(null), segmentPath);
  }

  public ConsistencyProof consistency(LedgerRequest.Consistency c) {
    long size = state.size();
    if (c.second() > size) {
      throw error(
          ErrorCode.INVALID_REQUEST,
          "second=" + c.second() + " is beyond the tree (size " + size + ")");
    }
    return new ConsistencyProof(
        c.first(),
        c.second(),
        state.root(c.first()),
        state.root(c.second()),
        state.consistencyProof(c.first(), c.second()));
  }

  public EntriesPage entries(LedgerRequest.Entries e) {
    long size = state.size();
    if (e.from() > size + 1) {
      throw error(
          ErrorCode.INVALID_REQUEST,
          "from=" + e.from() + " is beyond the tree (size " + size + ")");
    }
    List<EntryRecord> out = new ArrayList<>();
    for (long i = e.from(); i <= size && out.size() < e.limit(); i++) {
      state.entry(i).ifPresent(out::add);
    }
    return new EntriesPage(out, size);
  }

  public SegmentList segments() {
    java.util.Set<Long> local = new java.util.HashSet<>();
    state.localSealedSegments().forEach(l -> local.add(l.id()));
    return new SegmentList(state.segments(), state.archivedSegments(), local);
  }
}
