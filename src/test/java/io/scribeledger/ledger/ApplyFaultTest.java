package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.scribeledger.support.FaultyFiles;
import io.scribeledger.support.Tmpfs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An I/O error at any step of apply or checkpoint stops the ledger (nothing more is applied,
 * committed or read), and after a restart the replay of the same Raft entries rebuilds exactly the
 * ledger a healthy replica has: same size, same root, every value, byte-identical segments.
 */
class ApplyFaultTest {

  static final int ENTRIES = 60;
  static final int WRITES = 5;
  static final int CHECKPOINT_EVERY = 10;
  static final String SEGMENT = "seg-00000000000000000001.log";

  static Stream<Arguments> faults() {
    return Stream.of(
        Arguments.of("seg-", FaultyFiles.Op.WRITE, 1, false),
        Arguments.of("seg-", FaultyFiles.Op.WRITE, 100, true),
        Arguments.of("seg-", FaultyFiles.Op.FORCE, 2, false),
        Arguments.of("entries.idx", FaultyFiles.Op.WRITE, 1, true),
        Arguments.of("entries.idx", FaultyFiles.Op.WRITE, 3, false),
        Arguments.of("entries.idx", FaultyFiles.Op.FORCE, 2, false),
        Arguments.of("merkle.nodes", FaultyFiles.Op.WRITE, 2, true),
        Arguments.of("merkle.nodes", FaultyFiles.Op.FORCE, 4, false));
  }

  @ParameterizedTest(name = "{1} #{2} on {0} (partial: {3})")
  @MethodSource("faults")
  void aFailedWriteStopsTheLedgerAndTheReplayConvergesOnAHealthyReplica(
      String file, FaultyFiles.Op op, int nth, boolean partial, @TempDir Path dir)
      throws IOException {
    Path reference = dir.resolve("reference");
    long size;
    byte[] root;
    try (LedgerState healthy = new LedgerState(reference, 1 << 20)) {
      applyAll(healthy);
      size = healthy.size();
      root = healthy.root(size);
    }

    Path node = dir.resolve("node");
    FaultyFiles disk = new FaultyFiles();
    LedgerState state = new LedgerState(node, 1 << 20, Optional.empty(), disk);
    disk.arm(file, op, nth, partial);
    int failedAt = 0;
    for (int e = 1; e <= ENTRIES && failedAt == 0; e++) {
      try {
        state.apply(1, e, batch(e));
        if (e % CHECKPOINT_EVERY == 0) {
          state.checkpoint();
        }
      } catch (RuntimeException expected) {
        failedAt = e;
      }
    }
    assertEquals(1, disk.tripped(), "the injected fault happened");
    assertTrue(failedAt > 0 && state.failed(), "the ledger stopped at the fault");
    int next = failedAt + 1;
    assertThrows(IllegalStateException.class, () -> state.apply(1, next, batch(next)));
    assertThrows(IllegalStateException.class, state::commit);
    LedgerException refused = assertThrows(LedgerException.class, () -> state.latest("k-1-0"));
    assertEquals(ErrorCode.UNAVAILABLE, refused.error().code());
    state.close();

    try (LedgerState restarted = new LedgerState(node, 1 << 20)) {
      assertTrue(
          restarted.lastAppliedRaftIndex() < failedAt,
          "the restart goes on from a checkpoint taken before the fault");
      applyAll(restarted); // Raft replays its log; what the checkpoint holds is skipped
      assertEquals(size, restarted.size());
      assertArrayEquals(root, restarted.root(size));
      for (int e = 1; e <= ENTRIES; e++) {
        EntryRecord latest = restarted.latest("k-" + e + "-1").orElseThrow();
        assertEquals("v" + e + ".1", new String(restarted.value(latest), StandardCharsets.UTF_8));
      }
    }
    assertArrayEquals(
        Files.readAllBytes(reference.resolve("segments").resolve(SEGMENT)),
        Files.readAllBytes(node.resolve("segments").resolve(SEGMENT)),
        "the segment is byte-identical to the healthy replica's");
  }

  @Test
  void aCheckpointMapDbCannotWriteOnAFullDiskStopsTheLedgerAndTheReplayConverges(@TempDir Path dir)
      throws Exception {
    // A real fault, not an injected one: MapDB writes through a memory map, and on a full file
    // system the kernel answers a write to a page it cannot back with SIGBUS, which the JVM turns
    // into an InternalError in the checkpoint (issue 10 saw it kill the checkpoint thread).
    int entries = 2000;
    Path reference = dir.resolve("reference");
    long size;
    byte[] root;
    try (LedgerState healthy = new LedgerState(reference, 1 << 20)) {
      applyAll(healthy, 1, entries);
      size = healthy.size();
      root = healthy.root(size);
    }
    Path node = dir.resolve("node");
    Path elsewhere = Files.createDirectories(dir.resolve("append-only").resolve("segments"));
    try (Tmpfs disk = Tmpfs.mount(node, 8L << 20)) {
      // Only MapDB's files on the small disk: the append-only files are linked to a roomy one, so
      // the write that fails is MapDB's own.
      Files.createSymbolicLink(node.resolve("segments"), elsewhere);
      Files.createSymbolicLink(node.resolve("entries.idx"), elsewhere.resolveSibling("entries"));
      Files.createSymbolicLink(node.resolve("merkle.nodes"), elsewhere.resolveSibling("merkle"));
      LedgerState state = new LedgerState(node, 1 << 20);
      applyAll(state, 1, CHECKPOINT_EVERY);
      Path filler = node.resolve("filler");
      fill(filler);
      int failedAt = 0;
      Throwable fault = null;
      for (int e = CHECKPOINT_EVERY + 1; e <= entries && failedAt == 0; e++) {
        try {
          state.apply(1, e, batch(e));
          if (e % CHECKPOINT_EVERY == 0) {
            state.checkpoint();
          }
        } catch (RuntimeException | InternalError expected) {
          failedAt = e;
          fault = expected;
        }
      }
      assertTrue(failedAt > 0 && state.failed(), "the checkpoint failed and the ledger stopped");
      Throwable thrown = fault;
      assertTrue(inMapDb(thrown), () -> "the failed write was MapDB's own: " + thrown);
      assertThrows(IllegalStateException.class, state::commit);
      try {
        state.close();
      } catch (RuntimeException expected) {
        // its final commit fails too; the files are released all the same
      }
      disk.resize(64L << 20); // the operator gives the disk room

      try (LedgerState restarted = new LedgerState(node, 1 << 20)) {
        assertTrue(restarted.lastAppliedRaftIndex() < failedAt, "back to the last checkpoint");
        applyAll(restarted, 1, entries); // Raft replays; what the checkpoint holds is skipped
        assertEquals(size, restarted.size());
        assertArrayEquals(root, restarted.root(size));
        EntryRecord last = restarted.latest("k-" + entries + "-1").orElseThrow();
        assertEquals(
            "v" + entries + ".1", new String(restarted.value(last), StandardCharsets.UTF_8));
      }
    }
  }

  /** Whether {@code t} or a cause of it was thrown inside MapDB. */
  private static boolean inMapDb(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      for (StackTraceElement frame : c.getStackTrace()) {
        if (frame.getClassName().startsWith("org.mapdb.")) {
          return true;
        }
      }
    }
    return false;
  }

  /** Writes {@code file} until the file system is full. */
  private static void fill(Path file) throws IOException {
    byte[] block = new byte[64 * 1024];
    try (var out = Files.newOutputStream(file)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException full) {
      // ENOSPC: nothing left
    }
  }

  private static void applyAll(LedgerState state, int from, int to) {
    for (int e = from; e <= to; e++) {
      state.apply(1, e, batch(e));
      if (e % CHECKPOINT_EVERY == 0) {
        state.checkpoint();
      }
    }
    state.commit();
  }

  private static void applyAll(LedgerState state) {
    applyAll(state, 1, ENTRIES);
  }

  private static StampedCommand batch(int entry) {
    List<Command> commands = new ArrayList<>();
    for (int i = 0; i < WRITES; i++) {
      commands.add(
          new Command.Put(
              "k-" + entry + "-" + i,
              "text/plain",
              ("v" + entry + "." + i).getBytes(StandardCharsets.UTF_8),
              Condition.NONE));
    }
    return new StampedCommand(1_700_000_000_000L + entry, new Batch(commands));
  }
}
