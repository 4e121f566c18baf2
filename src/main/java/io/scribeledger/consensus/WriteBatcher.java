package io.scribeledger.consensus;

import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.WriteOutcome;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Group commit: packs concurrent writes into one Raft entry, so one round trip and one fsync carry
 * many writes. A write goes out at once while fewer than {@code maxInFlight} batches are pending —
 * a lone client is never delayed — and queues behind them otherwise; each send takes what queued,
 * up to {@code maxCount} writes and {@code maxBytes}. The linger is therefore exactly as long as
 * the batch ahead takes, which grows and shrinks with the load.
 */
final class WriteBatcher {

  private record Pending(Command command, long bytes, CompletableFuture<WriteOutcome> result) {}

  private final int maxCount;
  private final long maxBytes;
  private final int maxInFlight;
  private final Function<List<Command>, CompletableFuture<List<WriteOutcome>>> sender;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  WriteBatcher(
      int maxCount,
      long maxBytes,
      int maxInFlight,
      Function<List<Command>, CompletableFuture<List<WriteOutcome>>> sender) {
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    this.maxInFlight = maxInFlight;
    this.sender = sender;
  }

  CompletableFuture<WriteOutcome> submit(Command command) {
    Pending p = new Pending(command, sizeOf(command), new CompletableFuture<>());
    List<List<Pending>> ready;
    synchronized (this) {
      queue.add(p);
      ready = takeBatches();
    }
    ready.forEach(this::send);
    return p.result();
  }

  private static long sizeOf(Command c) {
    return c instanceof Command.Put put
        ? put.value().length + put.key().length() + 64L
        : c.key().length() + 64L;
  }

  /** Under the lock: the batches that may go out now. */
  private List<List<Pending>> takeBatches() {
    List<List<Pending>> out = new ArrayList<>();
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      List<Pending> batch = new ArrayList<>();
      long bytes = 0;
      while (!queue.isEmpty()
          && batch.size() < maxCount
          && (batch.isEmpty() || bytes + queue.peek().bytes() <= maxBytes)) {
        Pending next = queue.poll();
        bytes += next.bytes();
        batch.add(next);
      }
      inFlight++;
      out.add(batch);
    }
    return out;
  }

  private void send(List<Pending> batch) {
    List<Command> commands = new ArrayList<>(batch.size());
    batch.forEach(p -> commands.add(p.command()));
    CompletableFuture<List<WriteOutcome>> sent;
    try {
      sent = sender.apply(commands);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    var unused =
        sent.whenComplete(
            (outcomes, error) -> { // every outcome is handled here
              List<List<Pending>> ready;
              synchronized (this) {
                inFlight--;
                ready = takeBatches();
              }
              for (int i = 0; i < batch.size(); i++) {
                if (error != null) {
                  batch.get(i).result().completeExceptionally(error);
                } else {
                  batch.get(i).result().complete(outcomes.get(i));
                }
              }
              ready.forEach(this::send);
            });
  }
}
