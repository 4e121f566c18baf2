package io.scribeledger.consensus;

import io.scribeledger.error.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Lets readers wait until this node has applied a given index: a ledger index ({@code ?minIndex=})
 * or, in a watch of its own, a Raft index (a read barrier's). Every wait is removed when it
 * completes or is cancelled, and at most {@code maxWaits} are held at once, so a flood of reads
 * naming far-off indexes cannot grow the heap.
 */
public final class AppliedIndexWatch {

  /**
   * Waits held at once by default; one more is refused with 503 until some complete or time out.
   */
  public static final int DEFAULT_MAX_WAITS = 10_000;

  /** One reader's wait: {@link #ready} completes once the index is applied. */
  public record Wait(long index, CompletableFuture<Void> ready) {}

  private final AtomicLong applied = new AtomicLong();
  private final int maxWaits;

  // Guarded by this. Ordered by index, so one apply releases a prefix.
  private final NavigableMap<Long, List<CompletableFuture<Void>>> waits = new TreeMap<>();
  private int held;

  /** Read by the apply thread without the lock: nobody waiting is the common case. */
  private volatile boolean anyWaiting;

  public AppliedIndexWatch() {
    this(DEFAULT_MAX_WAITS);
  }

  public AppliedIndexWatch(int maxWaits) {
    this.maxWaits = maxWaits;
  }

  public long applied() {
    return applied.get();
  }

  /** Waits held now (for tests and metrics). */
  public synchronized int held() {
    return held;
  }

  /**
   * A wait that completes when this node has applied {@code index}. The caller bounds it and {@link
   * #cancel}s it when it gives up. Refused with 503 {@code unavailable} when the cap is reached.
   */
  public Wait await(long index) {
    if (applied.get() >= index) {
      return new Wait(index, CompletableFuture.completedFuture(null));
    }
    Wait wait = new Wait(index, new CompletableFuture<>());
    synchronized (this) {
      if (held >= maxWaits) {
        throw ErrorCode.UNAVAILABLE.error(
            "too many reads are waiting for an index on this node (" + maxWaits + "); retry");
      }
      waits.computeIfAbsent(index, i -> new ArrayList<>()).add(wait.ready());
      held++;
      anyWaiting = true;
    }
    // Registered first, then checked: the apply thread advances first, then looks for waits, so
    // one of the two sees the other.
    if (applied.get() >= index) {
      release(applied.get());
    }
    return wait;
  }

  /**
   * A wait for {@code index} bounded by {@code timeout}: past it the wait is removed from the watch
   * and the future fails with what {@code onTimeout} gives. Refused with 503 as {@link #await}.
   */
  public CompletableFuture<Void> awaitWithin(
      long index, Duration timeout, Supplier<? extends RuntimeException> onTimeout) {
    Wait wait = await(index);
    return wait.ready()
        .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .exceptionallyCompose(
            timedOut -> {
              cancel(wait); // leaves nothing behind in the watch
              return CompletableFuture.failedFuture(onTimeout.get());
            });
  }

  /** Forgets a wait whose reader gave up (a timeout); a no-op once it completed. */
  public void cancel(Wait wait) {
    synchronized (this) {
      List<CompletableFuture<Void>> at = waits.get(wait.index());
      if (at == null || !at.removeIf(f -> f == wait.ready())) {
        return;
      }
      if (at.isEmpty()) {
        waits.remove(wait.index());
      }
      held--;
      anyWaiting = held > 0;
    }
    wait.ready().cancel(false);
  }

  /**
   * Called by the apply thread after each applied entry, with the index now applied (for ledger
   * indexes, the ledger's size).
   */
  public void advance(long index) {
    applied.accumulateAndGet(index, Math::max);
    if (anyWaiting) {
      release(index);
    }
  }

  private void release(long upTo) {
    List<CompletableFuture<Void>> ready = new ArrayList<>();
    synchronized (this) {
      NavigableMap<Long, List<CompletableFuture<Void>>> due = waits.headMap(upTo, true);
      due.values().forEach(ready::addAll);
      due.clear();
      held -= ready.size();
      anyWaiting = held > 0;
    }
    ready.forEach(f -> f.complete(null));
  }
}
