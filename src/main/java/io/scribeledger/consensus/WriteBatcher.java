package io.scribeledger.consensus;

import io.scribeledger.error.ErrorCode;
import io.scribeledger.ledger.Command;
import io.scribeledger.ledger.WriteOutcome;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Group commit: packs concurrent writes into one Raft entry, so one round trip and one fsync carry
 * many writes. A write goes out at once while fewer than {@code maxInFlight} batches are pending —
 * a lone client is never delayed — and queues behind them otherwise; each send takes what queued,
 * up to {@code maxCount} writes and {@code maxBytes}. The linger is therefore exactly as long as
 * the batch ahead takes, which grows and shrinks with the load.
 */
final class WriteBatcher {

  private record Pending(
      Command command,
      long bytes,
      BooleanSupplier clientGone,
      CompletableFuture<WriteOutcome> result) {}

  /** Writes sent as one Raft entry, counted against the window of {@code generation}. */
  private record Outgoing(List<Pending> writes, long generation) {}

  private final int maxCount;
  private final long maxBytes;
  private final int maxInFlight;
  private final Function<List<Command>, CompletableFuture<List<WriteOutcome>>> sender;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  /** Bumped when the window is released; batches of an older one no longer count in it. */
  private long generation;

  /** Batches sent and not yet answered. */
  private final Set<Outgoing> outstanding = Collections.newSetFromMap(new IdentityHashMap<>());

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

  /**
   * Queues a write; {@code clientGone} is asked just before it would be proposed, and a write whose
   * client has gone is dropped then (never once it is in a Raft entry).
   */
  CompletableFuture<WriteOutcome> submit(Command command, BooleanSupplier clientGone) {
    Pending p = new Pending(command, sizeOf(command), clientGone, new CompletableFuture<>());
    advance(() -> queue.add(p), () -> {});
    return p.result();
  }

  /**
   * Changes the queue or the window under the lock, then: drops the writes whose client left, runs
   * {@code beforeSending}, and sends the batches that may go now.
   */
  private void advance(Runnable underLock, Runnable beforeSending) {
    List<Outgoing> ready;
    List<Pending> dropped = new ArrayList<>();
    synchronized (this) {
      underLock.run();
      ready = takeBatches(dropped);
    }
    drop(dropped);
    beforeSending.run();
    ready.forEach(this::send);
  }

  private static void drop(List<Pending> dropped) {
    dropped.forEach(
        p ->
            p.result()
                .completeExceptionally(
                    ErrorCode.TIMEOUT.error(
                        "the client went away before the write was proposed; nothing was written")));
  }

  /** At least the bytes the command takes in a Raft entry (key, content type, value, framing). */
  private static long sizeOf(Command c) {
    long key = c.key().getBytes(StandardCharsets.UTF_8).length + 64L;
    return c instanceof Command.Put put
        ? key + put.value().length + put.contentType().length()
        : key;
  }

  /**
   * A new leader: the batches in flight to the old one stop holding the window (they still finish
   * on their own, or are {@link #abandon}ed), so the writes queued behind them go to the new one
   * now. Returns the generation they belong to.
   */
  long releaseWindow() {
    long[] released = {0};
    advance(
        () -> {
          released[0] = generation++;
          inFlight = 0;
        },
        () -> {});
    return released[0];
  }

  /**
   * Answers every write still in flight from generation {@code upTo} or before with {@code error}:
   * their leader stopped answering, and their callers should learn that the outcome is unknown now
   * rather than after the client's own timeouts. A late reply is then ignored.
   */
  void abandon(long upTo, RuntimeException error) {
    List<Outgoing> stale = new ArrayList<>();
    synchronized (this) {
      outstanding.removeIf(
          o -> {
            if (o.generation() <= upTo) {
              stale.add(o);
              return true;
            }
            return false;
          });
    }
    stale.forEach(o -> o.writes().forEach(p -> p.result().completeExceptionally(error)));
  }

  /** Under the lock: the batches that may go out now. */
  private List<Outgoing> takeBatches(List<Pending> dropped) {
    List<Outgoing> out = new ArrayList<>();
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      List<Pending> batch = new ArrayList<>();
      long bytes = 0;
      while (!queue.isEmpty()
          && batch.size() < maxCount
          && (batch.isEmpty() || bytes + queue.peek().bytes() <= maxBytes)) {
        Pending next = queue.poll();
        if (next.clientGone().getAsBoolean()) {
          dropped.add(next);
          continue;
        }
        bytes += next.bytes();
        batch.add(next);
      }
      if (batch.isEmpty()) {
        continue;
      }
      inFlight++;
      Outgoing outgoing = new Outgoing(batch, generation);
      outstanding.add(outgoing);
      out.add(outgoing);
    }
    return out;
  }

  private void send(Outgoing outgoing) {
    List<Pending> batch = outgoing.writes();
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
              advance(
                  () -> {
                    if (outgoing.generation() == generation) {
                      inFlight--;
                    }
                    outstanding.remove(outgoing);
                  },
                  () -> {
                    for (int i = 0; i < batch.size(); i++) {
                      if (error != null) {
                        batch.get(i).result().completeExceptionally(error);
                      } else {
                        batch.get(i).result().complete(outcomes.get(i));
                      }
                    }
                  });
            });
  }
}
