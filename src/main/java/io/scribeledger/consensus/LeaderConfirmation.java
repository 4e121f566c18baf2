package io.scribeledger.consensus;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node, as Raft leader, may answer a linearizable read from its own state now: a
 * majority of voters (itself included) answered it within the leader lease, and, after a pause of
 * this process (SIGSTOP, a long GC, a starved CPU) or once it starts handing leadership over, only
 * answers received long enough after that count.
 *
 * <p>Ratis 3.3's leader ReadIndex alone does not ensure it: it answers at once when an earlier
 * round already confirmed a commit index at least as high, however long ago ({@code
 * ReadIndexHeartbeats.ackedCommitIndex}). A leader paused or cut off while the others elected a new
 * one and acknowledged writes cannot advance its commit index, so it answered from its old state
 * until it noticed the newer term (seen: a leader resumed after a 4 s pause reported ready at Raft
 * index 250 while 907 were committed). Ratis's own lease (by when requests were sent) is not
 * exposed; this one goes by when answers were received, so it assumes, as any lease does, that an
 * answer is not held back longer than the lease. Answers received within {@code drainMs} of a pause
 * may be replies buffered during it; later ones answer requests sent after it, and a follower that
 * meanwhile followed another leader answers those with its newer term, which makes this node step
 * down.
 */
final class LeaderConfirmation implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderConfirmation.class);
  private static final long TICK_MS = 20;

  private final long leaseMs;
  private final long pauseMs;
  private final long drainMs;
  private final LongSupplier nanoTime;
  private final ScheduledExecutorService ticker;
  private volatile long lastTickNanos;
  private volatile long distrustedSinceNanos;
  private volatile boolean distrusted;

  /**
   * A confirmation for a group with the given minimum election timeout: the lease is 0.9 of it (as
   * Ratis's lease ratio), a pause is a gap of half of it (a follower may time out after that much
   * silence on top of a heartbeat interval), and answers count again a whole timeout after a pause.
   * The watch ticks on {@code ticker}, a thread of its own, which {@link #close} stops.
   */
  static LeaderConfirmation start(long electionTimeoutMinMs, ScheduledExecutorService ticker) {
    LeaderConfirmation c =
        new LeaderConfirmation(
            electionTimeoutMinMs * 9 / 10,
            electionTimeoutMinMs / 2,
            electionTimeoutMinMs,
            System::nanoTime,
            ticker);
    var unused = ticker.scheduleWithFixedDelay(c::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    return c;
  }

  /** With an explicit clock; without a {@code ticker} (null), the caller calls {@link #tick}. */
  LeaderConfirmation(
      long leaseMs,
      long pauseMs,
      long drainMs,
      LongSupplier nanoTime,
      ScheduledExecutorService ticker) {
    this.leaseMs = leaseMs;
    this.pauseMs = pauseMs;
    this.drainMs = drainMs;
    this.nanoTime = nanoTime;
    this.ticker = ticker;
    this.lastTickNanos = nanoTime.getAsLong();
  }

  /** Notes a pause when the time since the last tick is far longer than a tick. */
  void tick() {
    long now = nanoTime.getAsLong();
    long gapMs = TimeUnit.NANOSECONDS.toMillis(now - lastTickNanos);
    if (gapMs > TICK_MS + pauseMs) {
      distrustAt(now);
      LOG.info(
          "this process was paused for about {} ms: if it leads, it serves linearizable reads"
              + " again once a majority has answered it since",
          gapMs);
    }
    lastTickNanos = now;
  }

  /**
   * Answers received until a whole election timeout from now do not count: this node is handing its
   * leadership over, and a follower that votes for the new leader answered it moments before (Ratis
   * drops its own lease during a transfer for the same reason).
   */
  void distrust() {
    distrustAt(nanoTime.getAsLong());
  }

  private void distrustAt(long nanos) {
    distrustedSinceNanos = nanos;
    distrusted = true;
  }

  /**
   * Whether a majority of {@code voters} answered this leader recently enough: {@code answerAgesMs}
   * maps each follower to the milliseconds since its last answer; this node counts for itself.
   */
  boolean confirmed(String self, Collection<String> voters, Map<String, Long> answerAgesMs) {
    long now = nanoTime.getAsLong();
    long maxAgeMs = leaseMs;
    if (TimeUnit.NANOSECONDS.toMillis(now - lastTickNanos) > TICK_MS + pauseMs) {
      return false; // paused until a moment ago: the watch has not run since
    }
    if (distrusted) {
      long sinceMs = TimeUnit.NANOSECONDS.toMillis(now - distrustedSinceNanos);
      maxAgeMs = Math.min(maxAgeMs, sinceMs - drainMs);
    }
    long fresh = voters.contains(self) ? 1 : 0;
    for (String voter : voters) {
      Long age = answerAgesMs.get(voter);
      if (!voter.equals(self) && age != null && age >= 0 && age < maxAgeMs) {
        fresh++;
      }
    }
    return fresh > voters.size() / 2;
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
    }
  }
}
