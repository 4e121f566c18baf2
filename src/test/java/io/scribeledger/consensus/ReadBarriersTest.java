package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Coalesced read barriers stay linearizable: a reader that arrives while a barrier is in flight is
 * answered only by a barrier that started after it arrived. The barriers here are completed by hand
 * (a fake Raft ReadIndex), which is the only way to hold one in flight on demand.
 */
class ReadBarriersTest {

  final List<CompletableFuture<Void>> sent = new ArrayList<>();
  final ReadBarriers barriers =
      new ReadBarriers(
          () -> {
            CompletableFuture<Void> f = new CompletableFuture<>();
            sent.add(f);
            return f;
          },
          Runnable::run);

  @Test
  void readersDuringABarrierWaitForTheNextOne() {
    CompletableFuture<Void> first = barriers.await();
    assertEquals(1, sent.size());
    CompletableFuture<Void> second = barriers.await();
    CompletableFuture<Void> third = barriers.await();
    assertSame(second, third, "readers that arrive meanwhile share one later barrier");
    assertEquals(1, sent.size(), "no barrier starts while one is in flight");

    sent.get(0).complete(null);
    assertTrue(first.isDone());
    assertFalse(
        second.isDone(),
        "the in-flight barrier may predate the second reader: it must not answer it");
    assertEquals(2, sent.size(), "the next barrier starts as soon as the first returns");

    sent.get(1).complete(null);
    assertTrue(second.isDone() && third.isDone());
    CompletableFuture<Void> later = barriers.await();
    assertEquals(3, sent.size(), "an idle reader starts its own barrier at once");
    sent.get(2).complete(null);
    assertTrue(later.isDone());
  }

  @Test
  void aFailedBarrierFailsItsReadersAndTheNextStillRuns() {
    CompletableFuture<Void> first = barriers.await();
    CompletableFuture<Void> second = barriers.await();
    sent.get(0).completeExceptionally(new IllegalStateException("no leader"));
    assertTrue(first.isCompletedExceptionally());
    assertFalse(second.isDone());
    sent.get(1).complete(null);
    assertTrue(second.isDone() && !second.isCompletedExceptionally());
  }

  @Test
  void aLeaderChangeGivesTheReadersInFlightAFreshRoundAndIgnoresTheOldOne() {
    // The round went to a leader that was then killed or paused: it would answer only at its
    // timeout, seconds later, with every reader (and every client that reads before it writes)
    // waiting on it.
    CompletableFuture<Void> first = barriers.await();
    CompletableFuture<Void> second = barriers.await();
    barriers.restart();
    assertEquals(2, sent.size(), "a new round goes out at once for the readers in flight");
    assertFalse(first.isDone());

    sent.get(1).complete(null);
    assertTrue(first.isDone() && !first.isCompletedExceptionally(), "the new round answers them");
    assertEquals(3, sent.size(), "then the readers queued meanwhile get theirs");
    assertFalse(second.isDone());

    sent.get(0).completeExceptionally(new IllegalStateException("timeout from the old leader"));
    assertFalse(second.isDone(), "the superseded round's late outcome changes nothing");
    assertEquals(3, sent.size(), "nor does it launch another round");
    sent.get(2).complete(null);
    assertTrue(second.isDone() && !second.isCompletedExceptionally());

    barriers.restart();
    assertEquals(3, sent.size(), "no round in flight: nothing to restart");
  }

  @Test
  void barriersThatCompleteAtOnceUnderAStreamOfReadersNeitherRecurseNorStall() throws Exception {
    // A leader with a lease answers a barrier at once. Each barrier here lets one more reader in,
    // as a steady stream of reads does; 50,000 of them would overflow the stack if each next
    // barrier were launched from the previous one's completion on the same stack.
    List<CompletableFuture<Void>> readers =
        java.util.Collections.synchronizedList(new ArrayList<>());
    int[] calls = {0};
    ReadBarriers[] self = new ReadBarriers[1];
    java.util.concurrent.ExecutorService completions =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    self[0] =
        new ReadBarriers(
            () -> {
              if (++calls[0] < 50_000) {
                readers.add(self[0].await());
              }
              return CompletableFuture.completedFuture(null);
            },
            completions);
    CompletableFuture<Void> first = self[0].await();
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline
        && (calls[0] < 50_000 || !readers.stream().allMatch(CompletableFuture::isDone))) {
      Thread.onSpinWait();
    }
    completions.shutdown();
    assertTrue(first.isDone());
    assertEquals(49_999, readers.size());
    assertTrue(
        readers.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()),
        "every reader was answered");
  }
}
