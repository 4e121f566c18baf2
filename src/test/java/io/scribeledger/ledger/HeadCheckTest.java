package io.scribeledger.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.merkle.Hashes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica confirms the leader's head where the check is in the log, or fails stop: it never goes
 * on with a history that differs from the one the check names.
 */
class HeadCheckTest {

  private static StampedCommand put(String key, String value) {
    return new StampedCommand(
        1_700_000_000_000L,
        new Command.Put(key, "text/plain", value.getBytes(StandardCharsets.UTF_8), Condition.NONE));
  }

  private static StampedCommand check(long size, byte[] root) {
    return new StampedCommand(1_700_000_000_000L, new HeadCheck(size, root));
  }

  @Test
  void aReplicaWithTheSameHistoryConfirmsAndNoLedgerIndexIsTaken(@TempDir Path dir)
      throws IOException {
    try (LedgerState state = new LedgerState(dir, 1 << 20)) {
      for (int i = 1; i <= 5; i++) {
        state.apply(1, i, put("k" + i, "v" + i));
      }
      byte[] rootAt5 = state.root(5);
      for (int i = 6; i <= 8; i++) {
        state.apply(1, i, put("k" + i, "v" + i));
      }
      // A check proposed when the leader had applied 5 entries, applied here after 8: still the
      // same tree at size 5.
      WriteOutcome outcome = state.apply(1, 9, check(5, rootAt5)).orElseThrow();
      assertInstanceOf(WriteOutcome.HeadConfirmed.class, outcome);
      assertEquals(8, state.size(), "a check is no ledger entry");
      assertEquals(9, state.lastAppliedRaftIndex());
      WriteOutcome next = state.apply(1, 10, put("k10", "v10")).orElseThrow();
      assertEquals(9, ((WriteOutcome.Applied) next).receipt().index());
    }
  }

  @Test
  void aReplicaMissingTheEntriesBeforeItsLogFailsStop(@TempDir Path dir) throws IOException {
    byte[] root;
    try (LedgerState restored = new LedgerState(dir.resolve("restored"), 1 << 20)) {
      for (int i = 1; i <= 5; i++) {
        restored.apply(1, i, put("k" + i, "v" + i));
      }
      root = restored.root(5);
    }
    // The newcomer received the restored group's log, which begins after those 5 entries.
    try (LedgerState newcomer = new LedgerState(dir.resolve("newcomer"), 1 << 20)) {
      HistoryMismatch stop =
          assertThrows(HistoryMismatch.class, () -> newcomer.apply(1, 1, check(5, root)));
      assertTrue(stop.getMessage().contains("holds only 0 entries"), stop.getMessage());
      assertThrows(
          LedgerState.FailedEarlier.class,
          () -> newcomer.apply(1, 2, put("k6", "v6")),
          "a stopped replica applies nothing after the check");
      assertEquals(0, newcomer.size());
    }
  }

  @Test
  void aReplicaThatDecidedAnEntryOtherwiseFailsStop(@TempDir Path dir) throws IOException {
    byte[] root;
    try (LedgerState leader = new LedgerState(dir.resolve("leader"), 1 << 20)) {
      leader.apply(1, 1, put("a", "1"));
      leader.apply(1, 2, put("b", "2"));
      root = leader.root(2);
    }
    try (LedgerState other = new LedgerState(dir.resolve("other"), 1 << 20)) {
      other.apply(1, 1, put("a", "1"));
      other.apply(1, 2, put("b", "two"));
      byte[] here = other.root(2);
      HistoryMismatch stop =
          assertThrows(HistoryMismatch.class, () -> other.apply(1, 3, check(2, root)));
      assertTrue(stop.getMessage().contains(Hashes.hex(root)), stop.getMessage());
      assertTrue(stop.getMessage().contains(Hashes.hex(here)), stop.getMessage());
    }
  }

  @Test
  void aMalformedCheckIsRefusedWhereItIsDecoded() {
    assertThrows(IllegalArgumentException.class, () -> new HeadCheck(-1, new byte[Hashes.SIZE]));
    assertThrows(IllegalArgumentException.class, () -> new HeadCheck(1, new byte[31]));
    assertThrows(
        IllegalArgumentException.class,
        () -> HeadCheck.decode(java.nio.ByteBuffer.wrap(new byte[8 + 16])));
  }
}
