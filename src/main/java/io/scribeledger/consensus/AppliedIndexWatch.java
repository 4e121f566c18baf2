package io.scribeledger.consensus;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/** Lets readers wait until this node has applied a given ledger index ({@code ?minIndex=}). */
public final class AppliedIndexWatch {

  private final AtomicLong applied = new AtomicLong();
  private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiters =
      new ConcurrentSkipListMap<>();

  public long applied() {
    return applied.get();
  }

  /** Completes when the ledger reaches {@code index}; the caller bounds the wait. */
  public CompletableFuture<Void> await(long index) {
    if (applied.get() >= index) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = waiters.computeIfAbsent(index, i -> new CompletableFuture<>());
    if (applied.get() >= index) {
      // The apply thread may have advanced between the check and the registration.
      release(applied.get());
    }
    return f;
  }

  /** Called by the apply thread after each applied entry. */
  public void advance(long ledgerSize) {
    applied.accumulateAndGet(ledgerSize, Math::max);
    if (!waiters.isEmpty()) {
      release(ledgerSize);
    }
  }

  private void release(long upTo) {
    ConcurrentNavigableMap<Long, CompletableFuture<Void>> ready = waiters.headMap(upTo, true);
    for (Map.Entry<Long, CompletableFuture<Void>> e : ready.entrySet()) {
      if (waiters.remove(e.getKey(), e.getValue())) {
        e.getValue().complete(null);
      }
    }
  }
}
