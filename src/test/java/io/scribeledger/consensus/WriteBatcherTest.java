package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.Condition;
import io.scribeledger.ledger.WriteOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Group commit: writes queue behind the batches in flight; a write whose client left is dropped
 * before it is proposed, never after; a new leader frees the window, and writes still in flight to
 * the old one can be answered "outcome unknown".
 */
class WriteBatcherTest {

  /** A Raft stand-in whose entries complete only when the test says. */
  private final List<CompletableFuture<List<WriteOutcome>>> entries = new CopyOnWriteArrayList<>();

  private final List<List<Command>> proposed = new CopyOnWriteArrayList<>();

  private final WriteBatcher batcher =
      new WriteBatcher(
          256,
          1 << 20,
          1,
          commands -> {
            proposed.add(commands);
            CompletableFuture<List<WriteOutcome>> f = new CompletableFuture<>();
            entries.add(f);
            return f;
          });

  private static Command put(String key) {
    return new Command.Put(key, "text/plain", new byte[] {1}, Condition.NONE);
  }

  private static List<WriteOutcome> applied(int n) {
    List<WriteOutcome> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new WriteOutcome.Registered());
    }
    return out;
  }

  @Test
  void aWriteWhoseClientLeftIsDroppedBeforeItIsProposed() {
    CompletableFuture<WriteOutcome> first = batcher.submit(put("a"), () -> false);
    boolean[] gone = {false};
    CompletableFuture<WriteOutcome> left = batcher.submit(put("b"), () -> gone[0]);
    CompletableFuture<WriteOutcome> stays = batcher.submit(put("c"), () -> false);
    gone[0] = true; // the client of "b" hangs up while "a" is in flight
    entries.get(0).complete(applied(1));
    assertTrue(first.isDone() && !first.isCompletedExceptionally());
    assertEquals(2, proposed.size());
    assertEquals(List.of("c"), proposed.get(1).stream().map(Command::key).toList());
    assertEquals(ErrorCode.TIMEOUT, codeOf(left));
    entries.get(1).complete(applied(1));
    assertTrue(stays.isDone() && !stays.isCompletedExceptionally());
  }

  @Test
  void aNewLeaderFreesTheWindowAndStuckWritesLearnTheOutcomeIsUnknown() {
    CompletableFuture<WriteOutcome> stuck = batcher.submit(put("a"), () -> false);
    CompletableFuture<WriteOutcome> queued = batcher.submit(put("b"), () -> false);
    assertEquals(1, proposed.size(), "b waits behind a");
    long old = batcher.releaseWindow();
    assertEquals(2, proposed.size(), "b goes out at once to the new leader");
    entries.get(1).complete(applied(1));
    assertTrue(queued.isDone() && !queued.isCompletedExceptionally());
    batcher.abandon(old, ErrorCode.TIMEOUT.error("leader changed"));
    assertEquals(ErrorCode.TIMEOUT, codeOf(stuck));
    entries.get(0).complete(applied(1)); // a late answer from the old leader changes nothing
    assertEquals(ErrorCode.TIMEOUT, codeOf(stuck));
    CompletableFuture<WriteOutcome> next = batcher.submit(put("c"), () -> false);
    assertEquals(3, proposed.size(), "the old batch no longer holds the window");
    entries.get(2).complete(applied(1));
    assertTrue(next.isDone());
  }

  private static ErrorCode codeOf(CompletableFuture<WriteOutcome> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      return ((LedgerException) e.getCause()).error().code();
    }
    throw new AssertionError("completed normally");
  }
}
