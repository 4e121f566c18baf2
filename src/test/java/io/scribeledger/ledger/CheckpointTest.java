package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.merkle.Hashes;
import io.scribeledger.support.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints write applied changes into MapDB off the apply thread: reads never miss an applied
 * write while one runs, and what a crash leaves is exactly the last checkpoint, from which the
 * replay of the later Raft entries rebuilds the same ledger.
 */
class CheckpointTest {

  private static StampedCommand batch(int entry, int writes) {
    List<Command> commands = new ArrayList<>();
    for (int i = 0; i < writes; i++) {
      // Every third write updates a key of the entry before, so versions and latest entries change
      // too.
      String key =
          i % 3 == 0 && entry > 1 ? "k-" + (entry - 1) + "-" + (i + 1) : "k-" + entry + "-" + i;
      commands.add(
          new Command.Put(
              key,
              "text/plain",
              ("v" + entry + "." + i).getBytes(StandardCharsets.UTF_8),
              Condition.NONE));
    }
    return new StampedCommand(1_700_000_000_000L + entry, new Batch(commands));
  }

  @Test
  void aCrashKeepsTheLastCheckpointAndTheReplayRebuildsTheSameLedger(@TempDir Path dir)
      throws IOException {
    Path live = dir.resolve("live");
    Path crashed = dir.resolve("crashed");
    byte[] root;
    long size;
    try (LedgerState state = new LedgerState(live, 1 << 20)) {
      for (int e = 1; e <= 50; e++) {
        state.apply(1, e, batch(e, 10));
      }
      state.checkpoint();
      for (int e = 51; e <= 80; e++) {
        state.apply(1, e, batch(e, 10));
      }
      size = state.size();
      root = state.root(size);
      Trees.copy(
          live,
          crashed); // what a kill -9 leaves on disk: nothing after the checkpoint was committed
    }
    try (LedgerState state = new LedgerState(crashed, 1 << 20)) {
      assertEquals(50, state.lastAppliedRaftIndex());
      assertEquals(500, state.size());
      assertTrue(
          state.latest("k-60-1").isEmpty(),
          "a write after the checkpoint is not there before the replay");
      for (int e = 1; e <= 80; e++) {
        state.apply(1, e, batch(e, 10)); // Raft replays from its log; entries up to 50 are skipped
      }
      assertEquals(size, state.size());
      assertArrayEquals(root, state.root(size));
      EntryRecord updated = state.latest("k-79-4").orElseThrow();
      assertEquals(2, updated.version());
      assertEquals("v80.3", new String(state.value(updated), StandardCharsets.UTF_8));
      assertEquals(
          "v79.4",
          new String(
              state.value(state.version("k-79-4", 1).orElseThrow()), StandardCharsets.UTF_8));
    }
  }

  @Test
  void readsNeverMissAnAppliedWriteWhileCheckpointsRun(@TempDir Path dir) throws Exception {
    try (LedgerState state = new LedgerState(dir, 1 << 20)) {
      Set<String> applied = ConcurrentHashMap.newKeySet();
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<String> missing = new AtomicReference<>();
      Thread checkpointer =
          new Thread(
              () -> {
                while (!done.get()) {
                  state.checkpoint();
                }
              });
      List<Thread> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(
            new Thread(
                () -> {
                  while (!done.get() && missing.get() == null) {
                    for (String key : applied) {
                      // Version 1 moves from the latest pointer into the versions map when the key
                      // is updated.
                      if (state.latest(key).isEmpty()
                          || state.latestVersion(key) == 0
                          || state.version(key, 1).isEmpty()) {
                        missing.set(key);
                      }
                    }
                  }
                }));
      }
      checkpointer.start();
      readers.forEach(Thread::start);
      for (int e = 1; e <= 400 && missing.get() == null; e++) {
        StampedCommand command = batch(e, 5);
        state.apply(1, e, command);
        ((Batch) command.proposal()).commands().forEach(c -> applied.add(c.key()));
      }
      done.set(true);
      checkpointer.join();
      for (Thread reader : readers) {
        reader.join();
      }
      assertEquals(null, missing.get(), "an applied key was not found during a checkpoint");
      assertEquals(2000, state.size());
      assertEquals(Hashes.SIZE, state.root(2000).length);
    }
  }

  @Test
  void aFailedCloseStillReleasesTheFilesSoTheNodeCanReopen(@TempDir Path dir) throws IOException {
    LedgerState state = new LedgerState(dir, 1 << 20);
    for (int e = 1; e <= 20; e++) {
      state.apply(1, e, batch(e, 10));
    }
    state.checkpoint();
    state.apply(1, 21, batch(21, 10));
    // An interrupt during a checkpoint's force() closes the file channel under it (as a shutdownNow
    // of
    // the committer thread did): the checkpoint fails, and so does the final commit of close().
    Thread.currentThread().interrupt();
    try {
      assertThrows(RuntimeException.class, state::checkpoint);
    } finally {
      Thread.interrupted();
    }
    assertThrows(RuntimeException.class, state::close);
    try (LedgerState reopened = new LedgerState(dir, 1 << 20)) {
      assertEquals(
          20,
          reopened.lastAppliedRaftIndex(),
          "the last checkpoint survives; Raft replays the rest");
      assertEquals(200, reopened.size());
      reopened.apply(1, 21, batch(21, 10));
      assertEquals(210, reopened.size());
    }
  }
}
