package io.scribeledger.consensus;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Coalesces linearizable reads onto shared read barriers (each asks the leader which Raft index to
 * read from: {@link LeaderRead}). Readers that arrive while a barrier is in flight wait for the
 * next one, which starts after they arrived — so each read still reflects every write acknowledged
 * before it began — and one barrier then serves them all instead of one round trip each. A round in
 * flight when the leader changes is superseded by a fresh one ({@link #restart}): it may be waiting
 * on a leader that will never answer.
 */
final class ReadBarriers {

  private final Supplier<CompletableFuture<Void>> barrier;
  private final Executor completions;
  private CompletableFuture<Void> running;
  private CompletableFuture<Void> queued;

  /** Bumped by every launch: the outcome of a superseded round is ignored. */
  private long round;

  /** {@code completions} runs what follows each barrier (the next launch); it must not block. */
  ReadBarriers(Supplier<CompletableFuture<Void>> barrier, Executor completions) {
    this.barrier = barrier;
    this.completions = completions;
  }

  CompletableFuture<Void> await() {
    CompletableFuture<Void> start = null;
    CompletableFuture<Void> mine;
    synchronized (this) {
      if (running == null) {
        running = new CompletableFuture<>();
        start = running;
        mine = running;
      } else {
        if (queued == null) {
          queued = new CompletableFuture<>();
        }
        mine = queued;
      }
    }
    if (start != null) {
      launch(start);
    }
    return mine;
  }

  /**
   * The leader changed: the readers of the round in flight get a new round, sent now (to the new
   * leader), instead of waiting out the old one's timeout. Safe for linearizability: the new round
   * starts after every one of them arrived. The old round's outcome, whenever it comes, is ignored.
   */
  void restart() {
    CompletableFuture<Void> group;
    long mine;
    // Read and superseded in one step: a round that completes in between would otherwise move
    // the queued readers into a round this restart then ignores, and they would never be answered.
    synchronized (this) {
      group = running;
      mine = ++round;
    }
    if (group != null) {
      launch(group, mine);
    }
  }

  private void launch(CompletableFuture<Void> group) {
    long mine;
    synchronized (this) {
      mine = ++round;
    }
    launch(group, mine);
  }

  private void launch(CompletableFuture<Void> group, long mine) {
    CompletableFuture<Void> f;
    try {
      f = barrier.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    // What follows a barrier always runs on our own thread, never on the one that completed it:
    // a barrier that completes at once (a leaseholder) would otherwise launch the next on the same
    // stack, and the next, as long as readers come (stack overflow, reads hang); and Ratis
    // completes
    // read barriers on its apply thread inside its read-request queue's lock, where submitting the
    // next barrier re-enters that queue (its entry can be cleared unanswered, or the apply thread
    // fails with a concurrent modification and the node stops applying).
    BiConsumer<Void, Throwable> done =
        (v, error) -> {
          CompletableFuture<Void> next;
          synchronized (this) {
            if (round != mine) {
              return; // superseded by a restart: the newer round answers these readers
            }
            running = queued;
            queued = null;
            next = running;
          }
          if (error != null) {
            group.completeExceptionally(error);
          } else {
            group.complete(null);
          }
          if (next != null) {
            launch(next);
          }
        };
    var unused = f.whenCompleteAsync(done, completions); // done handles every outcome
  }
}
