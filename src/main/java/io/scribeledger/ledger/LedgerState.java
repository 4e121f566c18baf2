package io.scribeledger.ledger;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.merkle.MerkleTree;
import io.scribeledger.storage.SegmentStore;
import io.scribeledger.storage.ValueLocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The replicated ledger: applies commands deterministically (index, version, conditions, tree) and
 * answers reads from the index and segment files. Apply and commit run on the Raft apply thread;
 * reads run on any worker thread.
 */
public final class LedgerState implements AutoCloseable {

  private final LedgerIndex index;
  private final SegmentStore segments;
  private final MerkleTree tree;
  private volatile boolean closed;

  public LedgerState(Path dataDir, long segmentSizeBytes) {
    try {
      Files.createDirectories(dataDir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot create " + dataDir, e);
    }
    this.index = new LedgerIndex(dataDir.resolve("state.mapdb"));
    this.segments = new SegmentStore(dataDir.resolve("segments"), segmentSizeBytes, index.segmentPosition());
    this.tree = new MerkleTree(index.treeNodes());
  }

  public long size() {
    ensureOpen();
    return index.size();
  }

  /** Reads after close (shutdown, or Ratis stopping a failed state machine) are refused, not crashed. */
  private void ensureOpen() {
    if (closed) {
      throw ApiError.of(ErrorCode.UNAVAILABLE, "the ledger state is closed on this node").exception();
    }
  }

  /** Number of segment files, the active one included. */
  public long segmentCount() {
    ensureOpen();
    return segments.count();
  }

  public long lastAppliedRaftIndex() {
    return index.lastAppliedRaftIndex();
  }

  public long lastAppliedRaftTerm() {
    return index.lastAppliedRaftTerm();
  }

  /** Timestamp of the last entry, so a new leader never stamps before it. */
  public long lastTimestamp() {
    return index.entry(index.size()).map(EntryRecord::timestamp).orElse(0L);
  }

  /**
   * Applies the command at Raft position (term, raftIndex). A Raft entry at or below the last
   * applied one is skipped (replay after restart), which returns empty.
   */
  public synchronized Optional<WriteOutcome> apply(long term, long raftIndex, StampedCommand stamped) {
    if (raftIndex <= index.lastAppliedRaftIndex()) {
      return Optional.empty();
    }
    WriteOutcome outcome = decide(stamped);
    index.setLastApplied(term, raftIndex);
    return Optional.of(outcome);
  }

  /** Records a Raft entry that carried nothing for the ledger (e.g. an undecodable one). */
  public synchronized Optional<WriteOutcome> reject(long term, long raftIndex, ApiError error) {
    if (raftIndex <= index.lastAppliedRaftIndex()) {
      return Optional.empty();
    }
    index.setLastApplied(term, raftIndex);
    return Optional.of(new WriteOutcome.Rejected(error));
  }

  private WriteOutcome decide(StampedCommand stamped) {
    Command command = stamped.command();
    String key = command.key();
    Optional<String> keyProblem = KeyRules.problem(key, KeyRules.MAX_KEY_BYTES);
    if (keyProblem.isPresent()) {
      return new WriteOutcome.Rejected(ApiError.of(ErrorCode.INVALID_KEY, keyProblem.get()));
    }
    long latestVersion = index.latestVersion(key);
    Optional<EntryRecord> latest = latestVersion == 0 ? Optional.empty() : index.entry(index.versionIndex(key, latestVersion));
    boolean live = latest.map(r -> r.op() == Op.PUT).orElse(false);
    Condition condition = command.condition();
    if (condition instanceof Condition.IfAbsent && live) {
      return new WriteOutcome.Rejected(ApiError.of(ErrorCode.PRECONDITION_FAILED,
          "If-None-Match: * but the key has a live value at version " + latestVersion));
    }
    if (condition instanceof Condition.IfMatch m
        && (latest.isEmpty() || !Arrays.equals(latest.get().leafHash(), m.leafHash()))) {
      return new WriteOutcome.Rejected(ApiError.of(ErrorCode.PRECONDITION_FAILED,
          "If-Match does not match the key's latest version"));
    }
    if (command instanceof Command.Delete && !live) {
      return new WriteOutcome.Rejected(latest
          .map(r -> new ApiError(ErrorCode.DELETED, "key was deleted at index " + r.index(), r.index()))
          .orElse(ApiError.of(ErrorCode.NOT_FOUND, "key has never been written")));
    }
    return new WriteOutcome.Applied(append(stamped.timestamp(), command, latestVersion + 1));
  }

  private Receipt append(long timestamp, Command command, long version) {
    long ledgerIndex = index.size() + 1;
    byte[] value = command instanceof Command.Put p ? p.value() : new byte[0];
    Op op = command instanceof Command.Put ? Op.PUT : Op.DELETE;
    String contentType = command instanceof Command.Put p ? p.contentType() : "";
    byte[] valueSha = Hashes.sha256(value);
    CanonicalEntry canonical = new CanonicalEntry(ledgerIndex, timestamp, op, command.key(), contentType, valueSha);
    byte[] header = canonical.encode();
    byte[] leaf = Hashes.leafHash(header);
    ValueLocation location = segments.append(header, value);
    index.append(new EntryRecord(ledgerIndex, timestamp, op, command.key(), version, contentType, value.length,
        valueSha, leaf, location));
    tree.append(ledgerIndex - 1, leaf);
    return new Receipt(command.key(), op, version, ledgerIndex, timestamp, valueSha, leaf, ledgerIndex,
        tree.root(ledgerIndex));
  }

  /** Makes every applied entry durable in the index (segments first, then MapDB). */
  public synchronized void commit() {
    index.commit(segments.sync());
  }

  public Optional<EntryRecord> entry(long ledgerIndex) {
    ensureOpen();
    return index.entry(ledgerIndex);
  }

  public Optional<EntryRecord> latest(String key) {
    return version(key, index.latestVersion(key));
  }

  public Optional<EntryRecord> version(String key, long version) {
    ensureOpen();
    long i = version <= 0 ? 0 : index.versionIndex(key, version);
    return i == 0 ? Optional.empty() : index.entry(i);
  }

  /** The key as it stood at ledger index {@code at}: its last version with an index not above it. */
  public Optional<EntryRecord> at(String key, long at) {
    ensureOpen();
    long lo = 1;
    long hi = index.latestVersion(key);
    long found = 0;
    while (lo <= hi) {
      long mid = (lo + hi) >>> 1;
      if (index.versionIndex(key, mid) <= at) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return version(key, found);
  }

  public List<EntryRecord> history(String key, long afterVersion, int limit) {
    ensureOpen();
    return index.versions(key, afterVersion, limit);
  }

  public long latestVersion(String key) {
    ensureOpen();
    return index.latestVersion(key);
  }

  public byte[] value(EntryRecord record) {
    ensureOpen();
    return record.size() == 0 ? new byte[0] : segments.read(record.location());
  }

  public byte[] root(long treeSize) {
    ensureOpen();
    return tree.root(treeSize);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    commit();
    segments.close();
    index.close();
  }
}
