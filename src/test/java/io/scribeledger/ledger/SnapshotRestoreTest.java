package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.support.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DBException;

/**
 * Snapshots share the ledger's append-only files by hard link and describe how far each reaches; a
 * restore links them back, cuts them to those lengths and rebuilds the key lookups from the
 * entries, reproducing the ledger exactly, whether on another node or on this one after it lost its
 * index.
 */
class SnapshotRestoreTest {

  private static final long SEGMENT_BYTES = 16 * 1024;
  private static final int ENTRIES = 60;

  /**
   * Raft entry {@code e}: puts of new keys, updates of earlier ones, a delete, a seal or a member
   * now and then.
   */
  private static StampedCommand entry(int e) {
    long ts = 1_700_000_000_000L + e;
    if (e % 17 == 0) {
      return new StampedCommand(ts, new SealSegment());
    }
    if (e % 23 == 0) {
      return new StampedCommand(
          ts, new RegisterMember("n" + e, "10.0.0." + e + ":8080", e % 2 == 0 ? "AAEC" : ""));
    }
    List<Command> commands = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String key =
          "k-" + (e % 7) + "-" + i; // every 7th entry writes the same keys again: versions 1, 2, 3…
      commands.add(
          new Command.Put(
              key,
              "text/plain",
              ("v" + e + "." + i).getBytes(StandardCharsets.UTF_8),
              Condition.NONE));
    }
    if (e % 5 == 0) {
      commands.add(new Command.Delete("k-" + ((e - 1) % 7) + "-3", Condition.NONE));
    }
    return new StampedCommand(ts, new Batch(commands));
  }

  /** The ledger's size and root after {@link #snapshotAt40ThenMore}. */
  @SuppressWarnings("ArrayRecordComponent") // a hash, compared by content
  private record Written(long size, byte[] root) {}

  /**
   * Writes entries 1-40 into a ledger at {@code data}, a snapshot of it into {@code snapshot}, then
   * entries 41 to {@link #ENTRIES}: a node whose index is ahead of its latest snapshot.
   */
  private static Written snapshotAt40ThenMore(Path data, Path snapshot) throws IOException {
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES)) {
      apply(state, 1, 40);
      state.writeSnapshot(snapshot);
      apply(state, 41, ENTRIES);
      return new Written(state.size(), state.root(state.size()));
    }
  }

  /**
   * Opened from a copy of {@code data} without a snapshot, a damaged index is left to the caller
   * (the Raft log may rebuild it: RestartTest), with {@code reason} in the message.
   */
  private static void assertDamagedWithoutASnapshot(Path data, Path copy, String reason)
      throws IOException {
    Trees.copy(data, copy);
    LedgerIndex.DamagedIndexException noSnapshot =
        assertThrows(
            LedgerIndex.DamagedIndexException.class, () -> new LedgerState(copy, SEGMENT_BYTES));
    assertTrue(noSnapshot.getMessage().contains(reason), noSnapshot.getMessage());
  }

  /**
   * Opened with {@code snapshot}, the ledger at {@code data} is restored to it (Raft index 40),
   * with {@code keptFile} set aside in damaged-index/ ({@code why}), and the replay of the later
   * entries reaches the ledger as {@code written}.
   */
  private static void assertRestoredAndReplayed(
      Path data, Path snapshot, Written written, String keptFile, String why) throws IOException {
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertTrue(state.restoredAtOpen());
      assertEquals(40, state.lastAppliedRaftIndex(), "restored to the snapshot");
      assertTrue(Files.exists(data.resolve("damaged-index").resolve(keptFile)), why);
      apply(state, 41, ENTRIES); // Raft replays its log after the snapshot
      assertEquals(written.size(), state.size());
      assertArrayEquals(written.root(), state.root(written.size()));
    }
  }

  private static void apply(LedgerState state, int from, int to) {
    for (int e = from; e <= to; e++) {
      state.apply(1, e, entry(e));
    }
  }

  @Test
  void aSnapshotSharesTheFilesAndAnotherNodeRestoresTheSameLedger(@TempDir Path dir)
      throws IOException {
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    Path shipped = dir.resolve("shipped");
    try (LedgerState leader = new LedgerState(dir.resolve("leader"), SEGMENT_BYTES)) {
      apply(leader, 1, ENTRIES);
      leader.writeSnapshot(snapshot);
      assertTrue(
          Files.isSameFile(dir.resolve("leader/entries.idx"), snapshot.resolve("entries.idx")),
          "linked, not copied");
      assertTrue(
          Files.isSameFile(dir.resolve("leader/merkle.nodes"), snapshot.resolve("merkle.nodes")));
      assertTrue(
          leader.segments().size() >= 2, "some sealed segments: " + leader.segments().size());
      apply(
          leader,
          ENTRIES + 1,
          ENTRIES + 10); // the leader goes on; the shared files grow past the snapshot
      leader.commit();
      Trees.copy(snapshot, shipped); // what Ratis ships to a follower: plain copies of the files

      try (LedgerState follower =
          new LedgerState(dir.resolve("follower"), SEGMENT_BYTES, Optional.of(shipped))) {
        assertEquals(ENTRIES, follower.lastAppliedRaftIndex());
        apply(
            follower,
            ENTRIES + 1,
            ENTRIES + 10); // then the log after the snapshot, as Ratis sends it
        assertSameLedger(leader, follower);
      }
    }
  }

  @Test
  void aNodeThatLostItsIndexRestoresFromItsSnapshotInsteadOfCuttingTheSharedFiles(@TempDir Path dir)
      throws IOException {
    Path data = dir.resolve("data");
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    Written written = snapshotAt40ThenMore(data, snapshot);
    long size = written.size();
    byte[] root = written.root();
    deleteIndex(
        data); // the index is lost; opened as it is, it would cut every file back to nothing
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertEquals(40, state.lastAppliedRaftIndex(), "restored to the snapshot");
      apply(state, 41, ENTRIES); // Raft replays its log after the snapshot
      assertEquals(size, state.size());
      assertArrayEquals(root, state.root(size));
    }
    try (LedgerState reopened = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertEquals(
          ENTRIES,
          reopened.lastAppliedRaftIndex(),
          "an index ahead of the snapshot opens as it is");
      assertArrayEquals(root, reopened.root(size));
    }
  }

  @Test
  void anIndexThatCannotBeReadBackIsSetAsideAndRestoredFromTheSnapshot(@TempDir Path dir)
      throws IOException {
    Path data = dir.resolve("data");
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    Written written = snapshotAt40ThenMore(data, snapshot);
    Trees.damageMapDb(data.resolve("state.mapdb"));
    // On a copy: MapDB keeps the file it failed to open locked in this JVM (a node exits then).
    assertDamagedWithoutASnapshot(data, dir.resolve("copy"), "cannot be read back");
    assertRestoredAndReplayed(data, snapshot, written, "state.mapdb", "kept for a post-mortem");
  }

  /**
   * A kill at the wrong moment can leave an index that reopens yet holds a broken record: MapDB
   * reports it only when an apply reads that record (seen in CrashRoundsIT: "PointerChecksumBroken:
   * Broken bit parity" at an entry after the restart), and the fail-stop that follows would repeat
   * at every restart. The fail-stop notes the damage, so the next start sets the index aside and
   * rebuilds it like one that cannot be reopened. The MapDB failure is injected (its own exception
   * type): a real store cannot be damaged on demand at a chosen record.
   */
  @Test
  void damageThatMapDbReportsWhileRunningMakesTheNextStartRebuildTheIndex(@TempDir Path dir)
      throws IOException {
    Path data = dir.resolve("data");
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    Written written = snapshotAt40ThenMore(data, snapshot);
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertFalse(state.restoredAtOpen());
      state.markIfIndexDamaged(new IOException("not MapDB's: no mark"));
    }
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertFalse(state.restoredAtOpen(), "an I/O error is not damage to rebuild from");
      state.markIfIndexDamaged(
          new IllegalStateException("apply failed", new DBException.PointerChecksumBroken()));
    }
    assertDamagedWithoutASnapshot(data, dir.resolve("copy"), "PointerChecksumBroken");
    assertRestoredAndReplayed(
        data, snapshot, written, "state.mapdb.damaged", "the note is set aside with the index");
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertFalse(state.restoredAtOpen(), "rebuilt once, then opened as usual");
    }
  }

  @Test
  void anIndexInUseByAnotherOpenLedgerIsNeitherSetAsideNorRestored(@TempDir Path dir)
      throws IOException {
    Path data = dir.resolve("data");
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    try (LedgerState running = new LedgerState(data, SEGMENT_BYTES)) {
      apply(running, 1, 40);
      running.writeSnapshot(snapshot);
      apply(running, 41, ENTRIES);
      // A second node started on the same directory by mistake must not cut the files back.
      RuntimeException refused =
          assertThrows(
              RuntimeException.class,
              () -> new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot)).close());
      assertTrue(refused instanceof org.mapdb.DBException.FileLocked, String.valueOf(refused));
      assertFalse(Files.exists(data.resolve("damaged-index")));
      assertEquals(ENTRIES, running.lastAppliedRaftIndex());
      assertTrue(running.entry(running.size()).isPresent(), "the running ledger still reads");
    }
  }

  @Test
  void aRestoreCutShortIsDoneAgainOnTheNextStart(@TempDir Path dir) throws IOException {
    Path data = dir.resolve("data");
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    byte[] root;
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES)) {
      apply(state, 1, ENTRIES);
      state.writeSnapshot(snapshot);
      root = state.root(state.size());
    }
    // A crash in the middle of the rebuild: the marker is there and the index file is half written.
    Files.writeString(data.resolve("RESTORING"), snapshot.toString());
    deleteIndex(data);
    Files.write(data.resolve("state.mapdb"), new byte[4096]);
    try (LedgerState state = new LedgerState(data, SEGMENT_BYTES, Optional.of(snapshot))) {
      assertFalse(Files.exists(data.resolve("RESTORING")));
      assertArrayEquals(root, state.root(state.size()));
      assertEquals(ENTRIES, state.lastAppliedRaftIndex());
    }
    Files.writeString(data.resolve("RESTORING"), snapshot.toString());
    IllegalStateException noSnapshot =
        assertThrows(IllegalStateException.class, () -> new LedgerState(data, SEGMENT_BYTES));
    assertTrue(noSnapshot.getMessage().contains("cut short"), noSnapshot.getMessage());
  }

  @Test
  void aDamagedSnapshotIsRefused(@TempDir Path dir) throws IOException {
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    try (LedgerState leader = new LedgerState(dir.resolve("leader"), SEGMENT_BYTES)) {
      apply(leader, 1, ENTRIES);
      leader.writeSnapshot(snapshot);
    }
    Path nodesDamaged = dir.resolve("nodes-damaged");
    Trees.copy(snapshot, nodesDamaged);
    flipByte(
        nodesDamaged.resolve("merkle.nodes"),
        2 * 32 + 5); // the first interior node: no leaf changes
    Exception nodeMismatch =
        assertThrows(
            RuntimeException.class,
            () -> new LedgerState(dir.resolve("f1"), SEGMENT_BYTES, Optional.of(nodesDamaged)));
    assertTrue(
        String.valueOf(nodeMismatch.getCause()).contains("level 1 index 0"),
        String.valueOf(nodeMismatch));

    Path segmentDamaged = dir.resolve("segment-damaged");
    Trees.copy(snapshot, segmentDamaged);
    Path firstSegment;
    try (Stream<Path> files = Files.list(segmentDamaged.resolve("segments"))) {
      firstSegment = files.sorted().findFirst().orElseThrow();
    }
    flipByte(firstSegment, 30); // inside the first entry's header: it no longer hashes to its leaf
    assertThrows(
        RuntimeException.class,
        () -> new LedgerState(dir.resolve("f2"), SEGMENT_BYTES, Optional.of(segmentDamaged)));
    assertTrue(
        Files.exists(dir.resolve("f2/RESTORING")),
        "the next start tries again rather than open a half-built index");
  }

  @Test
  void aMissingForeignOrTruncatedSnapshotDescriptionIsRefusedWithItsReason(@TempDir Path dir)
      throws IOException {
    Path snapshot = Files.createDirectories(dir.resolve("snapshot"));
    try (LedgerState leader = new LedgerState(dir.resolve("leader"), SEGMENT_BYTES)) {
      apply(leader, 1, 10);
      leader.writeSnapshot(snapshot);
    }
    byte[] meta = Files.readAllBytes(snapshot.resolve("ledger.meta"));
    String[][] cases = {
      {"missing", "has no ledger.meta"},
      {"foreign", "is not a Scribe Ledger snapshot"},
      {"truncated", "is cut short"}
    };
    for (String[] c : cases) {
      Path bad = dir.resolve(c[0]);
      Trees.copy(snapshot, bad);
      switch (c[0]) {
        case "missing" -> Files.delete(bad.resolve("ledger.meta"));
        case "foreign" ->
            Files.write(
                bad.resolve("ledger.meta"), "{\"json\":true}".getBytes(StandardCharsets.UTF_8));
        default ->
            Files.write(
                bad.resolve("ledger.meta"), java.util.Arrays.copyOf(meta, meta.length - 20));
      }
      Path node = dir.resolve("node-" + c[0]);
      RuntimeException refused =
          assertThrows(
              RuntimeException.class, () -> new LedgerState(node, SEGMENT_BYTES, Optional.of(bad)));
      assertTrue(
          String.valueOf(refused.getCause()).contains(c[1]), c[0] + ": " + refused.getCause());
    }
  }

  private static void assertSameLedger(LedgerState expected, LedgerState actual) {
    long size = expected.size();
    assertEquals(size, actual.size());
    assertArrayEquals(expected.root(size), actual.root(size));
    assertEquals(expected.members(), actual.members());
    assertEquals(expected.segments().size(), actual.segments().size());
    for (int s = 0; s < expected.segments().size(); s++) {
      assertArrayEquals(
          expected.segments().get(s).merkleRoot(), actual.segments().get(s).merkleRoot());
      assertEquals(expected.segments().get(s).lastIndex(), actual.segments().get(s).lastIndex());
    }
    for (long i = 1; i <= size; i++) {
      String key = expected.entry(i).orElseThrow().key();
      EntryRecord latest = expected.latest(key).orElseThrow();
      EntryRecord restored = actual.latest(key).orElseThrow();
      assertEquals(latest.index(), restored.index(), key);
      assertEquals(latest.version(), restored.version(), key);
      for (long v = 1; v <= latest.version(); v++) {
        EntryRecord want = expected.version(key, v).orElseThrow();
        EntryRecord got =
            actual
                .version(key, v)
                .orElseThrow(() -> new AssertionError(key + " has no version in the restore"));
        assertEquals(want.index(), got.index(), key + " v" + v);
        assertArrayEquals(expected.value(want), actual.value(got), key + " v" + v);
      }
    }
  }

  private static void deleteIndex(Path data) throws IOException {
    try (Stream<Path> files = Files.list(data)) {
      for (Path f :
          (Iterable<Path>)
              files.filter(p -> p.getFileName().toString().startsWith("state.mapdb"))::iterator) {
        Files.delete(f);
      }
    }
  }

  private static void flipByte(Path file, long at) throws IOException {
    try (var ch =
        java.nio.channels.FileChannel.open(
            file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x40));
      b.rewind();
      ch.write(b, at);
    }
  }
}
