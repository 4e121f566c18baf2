package io.scribeledger.ledger;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.storage.Directories;
import io.scribeledger.storage.SegmentStore;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rebuilds a ledger in a fresh data directory from archived segment files: every entry applied
 * again exactly as it was (same key, value, content type and timestamp, so the same index, version
 * and leaf), each segment sealed where it was sealed, and its archived copy recorded. Every step is
 * checked against the archive: a receipt that differs, or a resealed segment whose bytes are not
 * the archived file's, stops the rebuild. Blocking; for {@code scribe restore}.
 */
public final class SegmentReplay implements AutoCloseable {

  private final LedgerState state;
  private final Path dataDir;
  private long raftIndex;

  /** Opens a new ledger in {@code dataDir}, which must be empty or absent. */
  public SegmentReplay(Path dataDir, long segmentSizeBytes) throws IOException {
    if (!Directories.isEmpty(dataDir)) {
      throw new IOException(dataDir + " is not empty: a restore only fills a new data directory");
    }
    this.dataDir = dataDir;
    this.state = new LedgerState(dataDir, segmentSizeBytes);
  }

  /** Entries in the rebuilt ledger. */
  public long size() {
    return state.size();
  }

  /**
   * Applies the entries of the segment in {@code file} (already checked against {@code segment}),
   * seals it and records {@code archived}.
   */
  public void segment(SegmentInfo segment, SegmentArchived archived, Path file) throws IOException {
    List<SegmentStore.StoredRecord> records = new ArrayList<>();
    SegmentStore.forEachRecord(file, records::add);
    for (SegmentStore.StoredRecord r : records) {
      CanonicalEntry entry = CanonicalEntry.decode(r.header());
      Command command =
          entry.op() == Op.PUT
              ? new Command.Put(entry.key(), entry.contentType(), r.value(), Condition.NONE)
              : new Command.Delete(entry.key(), Condition.NONE);
      WriteOutcome outcome = apply(new StampedCommand(entry.timestamp(), command));
      if (!(outcome instanceof WriteOutcome.Applied applied)
          || applied.receipt().index() != entry.index()
          || !MessageDigest.isEqual(applied.receipt().leafHash(), Hashes.leafHash(r.header()))) {
        throw new IOException(
            "entry " + entry.index() + " does not apply again as it was archived: " + outcome);
      }
    }
    WriteOutcome sealed = apply(new StampedCommand(segment.createdAt(), new SealSegment()));
    if (!(sealed instanceof WriteOutcome.Sealed s)
        || s.segment().id() != segment.id()
        || s.segment().lastIndex() != segment.lastIndex()
        || !MessageDigest.isEqual(s.segment().merkleRoot(), segment.merkleRoot())
        || !MessageDigest.isEqual(
            Hashes.sha256(SegmentStore.fileOf(LedgerState.segmentsDir(dataDir), segment.id())),
            Hashes.sha256(file))) {
      throw new IOException(
          "segment " + segment.id() + " does not seal again into the archived bytes: " + sealed);
    }
    WriteOutcome recorded = apply(new StampedCommand(segment.createdAt(), archived));
    if (!(recorded instanceof WriteOutcome.Archived)) {
      throw new IOException("segment " + segment.id() + ": archive record refused: " + recorded);
    }
  }

  private WriteOutcome apply(StampedCommand command) {
    Optional<WriteOutcome> outcome = state.apply(0, ++raftIndex, command);
    return outcome.orElseThrow(() -> new IllegalStateException("entry skipped"));
  }

  /** The root of the rebuilt ledger. */
  public byte[] root() {
    return state.root(state.size());
  }

  /** Leaves the complete ledger ready for a new Raft group (it counts no Raft entry). */
  public void finish() throws IOException {
    state.startNewRaftLog();
  }

  /**
   * Closes the ledger; without {@link #finish} first it still counts the replay's own Raft entries,
   * so no node could start on it unnoticed (the caller removes it anyway).
   */
  @Override
  public void close() {
    state.close();
  }
}
