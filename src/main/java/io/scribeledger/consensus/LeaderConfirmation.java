package io.scribeledger.consensus;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
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
 * exposed; this one goes by when answers were received. A follower may vote for another one
 * election timeout after it answered, so this lease holds only if an answer reaches Ratis here
 * within the remaining tenth of that timeout plus the time an election and a commit take (Ratis's
 * lease, checked first on every read, covers the rest while it is valid). Answers received within
 * {@code drainMs} of a pause may be replies buffered during it; later ones answer requests sent
 * after it, and a follower that meanwhile followed another leader answers those with its newer
 * term, which makes this node step down.
 *
 * <p>Answers alone do not confirm a leader whose lease lapsed or whose process was paused. A lapse
 * is a moment when no majority of each voter set (both, during a configuration change) had answered
 * within the lease; each look, by a read or by the watch every 20 ms, also checks that the answers
 * seen at the previous look kept the lease until now, so a lapse between two looks counts too. The
 * reason: the reply that deposes it (a follower's newer term) refreshes the follower's answer time
 * in Ratis before Ratis steps this node down, so a leader cut off while the others elected a new
 * one would count it, in the moment the partition heals, towards a majority. Such a leader is
 * confirmed again only once it has also committed an entry appended after the lapse began: a
 * majority accepted an entry of its term after it may have been deposed, so it was not (Raft's own
 * argument for a leader's first entry). The watch has that entry proposed ({@code proofProposer})
 * as soon as it notices a pause; after a lapse, a read that waits for it does.
 */
final class LeaderConfirmation implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderConfirmation.class);
  private static final long TICK_MS = 20;

  /**
   * What the leader's Raft server shows at one moment. {@code voterSets} holds the voters of the
   * configuration, and during a change of it also the previous one's: Raft then needs a majority of
   * each.
   */
  record View(
      boolean leading,
      List<? extends Collection<String>> voterSets,
      Map<String, Long> answerAgesMs,
      long lastLogIndex,
      long commitIndex) {

    /** A node that does not lead now. */
    static final View NOT_LEADING = new View(false, List.of(), Map.of(), -1, -1);
  }

  private final String self;
  private final Supplier<View> view;
  private final Runnable proofProposer;
  private final long leaseMs;
  private final long pauseMs;
  private final long drainMs;
  private final LongSupplier nanoTime;
  private final ScheduledExecutorService ticker;
  private volatile long lastTickNanos;
  private volatile long distrustedSinceNanos;
  private volatile boolean distrusted;

  /**
   * While at least 0: the leader's lease lapsed (or it was paused) when its log ended here, and
   * only a commit index above it confirms it again.
   */
  private long proofAbove = -1;

  /**
   * Until when the answers seen at the last look keep the lease, so that a lapse between two looks
   * is seen too; unknown (false) until this node's first look as leader.
   */
  private long leaseUntilNanos;

  private boolean leaseKnown;

  /** In a lapse that already asked for its proof: a longer one asks for no later entry. */
  private boolean lapsed;

  /** The {@link #proofAbove} a proof entry was last proposed for, and when. */
  private long proposedFor = -1;

  private long proposedAtNanos;

  /** Only the watch thread reads and writes it: the last tick could not read the Raft state. */
  private boolean viewFailing;

  /**
   * A confirmation for a group with the given minimum election timeout: the lease is 0.9 of it (as
   * Ratis's lease ratio), a pause is a gap of half of it (a follower may time out after that much
   * silence on top of a heartbeat interval), and answers count again a whole timeout after a pause.
   * The watch ticks on {@code ticker}, a thread of its own, which {@link #close} stops.
   */
  static LeaderConfirmation start(
      String self,
      long electionTimeoutMinMs,
      Supplier<View> view,
      Runnable proofProposer,
      ScheduledExecutorService ticker) {
    LeaderConfirmation c =
        new LeaderConfirmation(
            self,
            electionTimeoutMinMs * 9 / 10,
            electionTimeoutMinMs / 2,
            electionTimeoutMinMs,
            System::nanoTime,
            view,
            proofProposer,
            ticker);
    var unused = ticker.scheduleWithFixedDelay(c::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    return c;
  }

  /** With an explicit clock; without a {@code ticker} (null), the caller calls {@link #tick}. */
  LeaderConfirmation(
      String self,
      long leaseMs,
      long pauseMs,
      long drainMs,
      LongSupplier nanoTime,
      Supplier<View> view,
      Runnable proofProposer,
      ScheduledExecutorService ticker) {
    this.self = self;
    this.leaseMs = leaseMs;
    this.pauseMs = pauseMs;
    this.drainMs = drainMs;
    this.nanoTime = nanoTime;
    this.view = view;
    this.proofProposer = proofProposer;
    this.ticker = ticker;
    this.lastTickNanos = nanoTime.getAsLong();
  }

  /**
   * Notes a pause when the time since the last tick is far longer than a tick, and a lapse of the
   * lease while this node leads, even when no read asks.
   */
  void tick() {
    long now = nanoTime.getAsLong();
    long gapMs = TimeUnit.NANOSECONDS.toMillis(now - lastTickNanos);
    View v;
    try {
      v = view.get();
      viewFailing = false;
    } catch (RuntimeException e) {
      // Handled by the next tick that can read it, as if this process had been paused meanwhile:
      // until then reads are refused (they could not read it either), never let through.
      if (!viewFailing) {
        LOG.warn("cannot read this Raft member's state: {}", e.toString());
        viewFailing = true;
      }
      return;
    }
    boolean paused = gapMs > TICK_MS + pauseMs;
    if (paused) {
      distrustAt(now);
      LOG.info(
          "this process was paused for about {} ms: if it leads, it serves linearizable reads"
              + " again once a majority has answered it since and it has committed an entry since",
          gapMs);
    }
    look(v, now);
    if (paused && v.leading()) {
      // Proposed now, so that it is committed by the time answers count again.
      requireProofAbove(v.lastLogIndex());
      proposeProof(now);
    }
    lastTickNanos = now;
  }

  /**
   * This leader's leadership is being moved, by itself or by another member ({@link
   * LeaderRead#HANDOVER}). Ratis may start the target's election at any moment until the transfer
   * times out ({@code transferTimeoutMs}, counted from now, plus an election timeout for the
   * request still on its way), and followers vote for it without pre-vote while their answers here
   * still look fresh (Ratis drops its own lease during a transfer for the same reason). So no
   * answer counts until then, and then only answers a whole election timeout later; and the leader
   * must also commit an entry appended after now, which a majority accepts in its term only if the
   * transfer moved nothing (a reply that deposes it refreshes that follower's answer time before
   * Ratis steps it down). A later notice moves the end to its own if that is later. Returns whether
   * this notice began a handover (none was in effect), so that it is logged once.
   */
  boolean handOver(View v, long transferTimeoutMs) {
    long now = nanoTime.getAsLong();
    if (!v.leading()) {
      return false;
    }
    long until = now + TimeUnit.MILLISECONDS.toNanos(transferTimeoutMs + drainMs);
    boolean began = !(distrusted && distrustedSinceNanos - now > 0);
    if (began || until - distrustedSinceNanos > 0) {
      distrustAt(until);
    }
    requireProofAbove(v.lastLogIndex());
    return began;
  }

  private void distrustAt(long nanos) {
    distrustedSinceNanos = nanos;
    distrusted = true;
  }

  /**
   * Whether this leader may serve a linearizable read now: a majority of its voters (itself
   * included) answered it recently enough, and after a lapse or a pause it committed an entry
   * appended since. Proposes that entry, once per lapse, when only it is missing.
   */
  boolean confirmed(View v) {
    long now = nanoTime.getAsLong();
    if (TimeUnit.NANOSECONDS.toMillis(now - lastTickNanos) > TICK_MS + pauseMs) {
      return false; // paused until a moment ago: the watch has not run since
    }
    if (!look(v, now)) {
      return false;
    }
    if (distrusted) {
      long sinceMs = TimeUnit.NANOSECONDS.toMillis(now - distrustedSinceNanos);
      if (!majorityAnswered(v, now, Math.min(leaseMs, sinceMs - drainMs))) {
        return false;
      }
    }
    synchronized (this) {
      if (proofAbove < 0 || v.commitIndex() > proofAbove) {
        proofAbove = -1;
        return true;
      }
    }
    proposeProof(now);
    return false;
  }

  /**
   * One look at the leader's state, from the watch or a read: whether the lease holds now and held
   * since the last look (the answers seen then kept it until now). A lapse, seen either way, asks
   * once, at its start, for a proof: an entry appended after it, committed. Not leading forgets
   * all: a new term starts with its own proof, its first entry committed.
   */
  private synchronized boolean look(View v, long now) {
    if (!v.leading()) {
      proofAbove = -1;
      proposedFor = -1;
      leaseKnown = false;
      lapsed = false;
      return false;
    }
    long answeredAt = majorityAnsweredAt(v, now);
    // Continuity matters only from a look where it held: a lapse in progress asked already.
    boolean held =
        (!leaseKnown || lapsed || now - leaseUntilNanos <= 0)
            && now - answeredAt < TimeUnit.MILLISECONDS.toNanos(leaseMs);
    leaseUntilNanos = answeredAt + TimeUnit.MILLISECONDS.toNanos(leaseMs);
    leaseKnown = true;
    if (held) {
      lapsed = false;
    } else if (!lapsed) {
      lapsed = true;
      proofAbove = Math.max(proofAbove, v.lastLogIndex());
    }
    return held;
  }

  /**
   * When the answers that make a majority of every voter set were received: the oldest of, per set,
   * the freshest majority's oldest answer (this node answers itself at once).
   */
  private long majorityAnsweredAt(View v, long now) {
    long at = now;
    for (Collection<String> voters : v.voterSets()) {
      List<Long> ages = new ArrayList<>();
      for (String voter : voters) {
        Long age = voter.equals(self) ? Long.valueOf(0) : v.answerAgesMs().get(voter);
        ages.add(age == null || age < 0 ? Long.MAX_VALUE / 2 : age);
      }
      ages.sort(null);
      long majorityAgeMs = ages.isEmpty() ? 0 : ages.get(voters.size() / 2);
      at = Math.min(at, now - TimeUnit.MILLISECONDS.toNanos(Math.min(majorityAgeMs, 1L << 40)));
    }
    return at;
  }

  /**
   * Has the proof entry proposed for the current {@link #proofAbove}: once, and again after an
   * election timeout, since a proposal can fail (a leader stepping down, a full queue) without
   * appending anything.
   */
  private void proposeProof(long now) {
    synchronized (this) {
      if (proofAbove < 0
          || (proofAbove == proposedFor
              && TimeUnit.NANOSECONDS.toMillis(now - proposedAtNanos) <= drainMs)) {
        return;
      }
      proposedFor = proofAbove;
      proposedAtNanos = now;
    }
    proofProposer.run();
  }

  private boolean majorityAnswered(View v, long now, long maxAgeMs) {
    return maxAgeMs > 0
        && now - majorityAnsweredAt(v, now) < TimeUnit.MILLISECONDS.toNanos(maxAgeMs);
  }

  private synchronized void requireProofAbove(long lastLogIndex) {
    proofAbove = Math.max(proofAbove, lastLogIndex);
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
    }
  }
}
