package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.scribeledger.support.FaultyFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
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

  private static void applyAll(LedgerState state) {
    for (int e = 1; e <= ENTRIES; e++) {
      state.apply(1, e, batch(e));
      if (e % CHECKPOINT_EVERY == 0) {
        state.checkpoint();
      }
    }
    state.commit();
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
