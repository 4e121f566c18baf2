package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.scribeledger.merkle.Hashes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers (HTTP requests) take no lock against the apply thread, so whatever an apply has published
 * — the ledger size, a key's latest entry — must already be whole: its slot, its header and its
 * Merkle leaf stored. CI once answered a linearizable read 503 "failed its integrity check" and a
 * head could not be computed, because the size and the key were published before the leaf.
 */
class ConcurrentReadsTest {

  private static final int ENTRIES = 3000;
  private static final String[] HOT_KEYS = {"hot-a", "hot-b", "hot-c"};

  @Test
  void readersRacingTheApplyThreadOnlyFindWholeEntries(@TempDir Path dir) throws Exception {
    try (LedgerState state = new LedgerState(dir, 1 << 20)) {
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<String> broken = new AtomicReference<>();
      List<Thread> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(
            new Thread(
                () -> {
                  while (!done.get() && broken.get() == null) {
                    try {
                      long size = state.size();
                      if (size > 0 && state.root(size).length != Hashes.SIZE) {
                        broken.set("root of " + size + " has the wrong length");
                      }
                      for (String key : HOT_KEYS) {
                        state.latest(key).ifPresent(entry -> state.value(entry));
                      }
                    } catch (RuntimeException e) {
                      broken.set(e.toString());
                    }
                  }
                },
                "reader-" + r));
      }
      readers.forEach(Thread::start);
      try {
        for (int e = 1; e <= ENTRIES && broken.get() == null; e++) {
          String key = HOT_KEYS[e % HOT_KEYS.length];
          byte[] value = ("value " + e).getBytes(StandardCharsets.UTF_8);
          state.apply(
              1,
              e,
              new StampedCommand(
                  1_700_000_000_000L + e,
                  new Command.Put(key, "text/plain", value, Condition.NONE)));
        }
      } finally {
        done.set(true);
        for (Thread reader : readers) {
          reader.join();
        }
      }
      assertNull(broken.get(), "a reader found a published entry that was not whole");
      assertEquals(ENTRIES, state.size());
    }
  }
}
