package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.consensus.CommandCodec;
import io.scribeledger.consensus.OutcomeCodec;
import io.scribeledger.merkle.Hashes;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archive records in the replicated manifest: the first per sealed segment is kept, anything
 * malformed is refused alike on every replica and changes nothing, and they travel through the log
 * codec and snapshots unchanged.
 */
class ArchiveRecordTest {

  private long raftIndex;

  private Optional<WriteOutcome> apply(LedgerState state, Proposal p) {
    return state.apply(1, ++raftIndex, new StampedCommand(1_000 + raftIndex, p));
  }

  private static SegmentArchived record(long segment, String key, byte sha) {
    byte[] hash = new byte[Hashes.SIZE];
    hash[0] = sha;
    return new SegmentArchived(segment, key, hash, 100, "gzip");
  }

  @Test
  void theFirstRecordPerSealedSegmentIsKeptAndBadOnesChangeNothing(@TempDir Path dir) {
    try (LedgerState state = new LedgerState(dir, 1 << 20)) {
      apply(state, new Command.Put("a", "text/plain", new byte[] {1}, Condition.NONE));
      apply(state, new SealSegment());
      WriteOutcome first = apply(state, record(1, "p/segments/one.seg.gz", (byte) 1)).get();
      assertTrue(((WriteOutcome.Archived) first).first());
      WriteOutcome second = apply(state, record(1, "p/segments/two.seg.gz", (byte) 2)).get();
      WriteOutcome.Archived kept = (WriteOutcome.Archived) second;
      assertFalse(kept.first());
      assertEquals("p/segments/one.seg.gz", kept.record().objectKey(), "the first one stays");

      SegmentArchived[] hostile = {
        record(2, "p/segments/x.seg", (byte) 3), // segment 2 is not sealed
        new SegmentArchived(1, "p/x", new byte[31], 100, "gzip"),
        new SegmentArchived(1, "p/x", new byte[32], 0, "gzip"),
        new SegmentArchived(1, "p/x", new byte[32], 100, "zstd"),
        new SegmentArchived(1, "../../etc/passwd x", new byte[32], 100, "gzip"),
        new SegmentArchived(1, "", new byte[32], 100, "gzip"),
        new SegmentArchived(1, "k".repeat(1025), new byte[32], 100, "gzip"),
      };
      for (SegmentArchived bad : hostile) {
        assertInstanceOf(WriteOutcome.Rejected.class, apply(state, bad).get(), bad.objectKey());
      }
      assertEquals(1, state.archivedSegments().size());
      assertEquals("p/segments/one.seg.gz", state.archivedSegments().get(1L).objectKey());
      assertEquals(1, state.size(), "no entry appended");
    }
  }

  @Test
  void recordsTravelThroughTheLogAndSnapshotsUnchanged(@TempDir Path dir) throws Exception {
    SegmentArchived r = record(7, "p/segments/7.seg.gz", (byte) 9);
    byte[] entry = CommandCodec.encode(r);
    ByteBuffer stamped =
        ByteBuffer.allocate(CommandCodec.STAMP_BYTES + entry.length)
            .put(CommandCodec.stamp(5))
            .put(entry)
            .flip();
    SegmentArchived back = (SegmentArchived) CommandCodec.decodeStamped(stamped).proposal();
    assertEquals(r.objectKey(), back.objectKey());
    assertArrayEquals(r.objectSha256(), back.objectSha256());
    WriteOutcome.Archived outcome =
        (WriteOutcome.Archived)
            OutcomeCodec.decode(
                ByteBuffer.wrap(OutcomeCodec.encode(new WriteOutcome.Archived(r, true))));
    assertTrue(outcome.first());
    assertEquals(r.codec(), outcome.record().codec());

    Path data = dir.resolve("data");
    Path snapshot = Files.createDirectories(dir.resolve("snap"));
    try (LedgerState state = new LedgerState(data, 1 << 20)) {
      apply(state, new Command.Put("a", "text/plain", new byte[] {1}, Condition.NONE));
      apply(state, new SealSegment());
      apply(state, record(1, "p/segments/1.seg.gz", (byte) 4));
      state.writeSnapshot(snapshot);
    }
    SnapshotMeta meta = SnapshotMeta.read(snapshot);
    assertEquals(1, meta.archived().size());
    assertEquals("p/segments/1.seg.gz", meta.archived().get(0).objectKey());
    try (LedgerState restored = new LedgerState(dir.resolve("other"), 1 << 20)) {
      restored.restoreFrom(snapshot);
      assertEquals("p/segments/1.seg.gz", restored.archivedSegments().get(1L).objectKey());
    }
  }

  @Test
  void truncatedRecordsAreRefusedByTheCodec() {
    byte[] entry = CommandCodec.encode(record(1, "p/k", (byte) 1));
    for (int cut = 1; cut < entry.length; cut += 7) {
      byte[] part = java.util.Arrays.copyOf(entry, cut);
      ByteBuffer b =
          ByteBuffer.allocate(CommandCodec.STAMP_BYTES + part.length)
              .put(CommandCodec.stamp(5))
              .put(part)
              .flip();
      org.junit.jupiter.api.Assertions.assertThrows(
          IllegalArgumentException.class, () -> CommandCodec.decodeStamped(b));
    }
  }
}
