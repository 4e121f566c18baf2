package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When a leader may serve a linearizable read from its own state: the rule, on a clock the test
 * moves (a real pause is what {@code PausedLeaderReadIT} and {@code ClusterProcessIT} do with
 * SIGSTOP).
 */
class LeaderConfirmationTest {

  private static final List<String> THREE = List.of("n1", "n2", "n3");

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  // Lease 270 ms, a pause is a gap over 150 ms (plus a tick), answers count 300 ms after one.
  private final LeaderConfirmation leadership =
      new LeaderConfirmation(270, 150, 300, now::get, null);

  @Test
  void aMajorityThatAnsweredWithinTheLeaseConfirms() {
    tickFor(100);
    assertTrue(leadership.confirmed("n1", THREE, Map.of("n2", 40L, "n3", 5_000L)));
    assertTrue(leadership.confirmed("n1", List.of("n1"), Map.of()), "a group of one");
  }

  @Test
  void aLeaderCutOffFromItsFollowersIsNotConfirmed() {
    tickFor(100);
    assertFalse(leadership.confirmed("n1", THREE, Map.of("n2", 300L, "n3", 5_000L)));
    assertFalse(leadership.confirmed("n1", THREE, Map.of()), "never answered");
  }

  @Test
  void onlyVotersCount() {
    tickFor(100);
    // A listener (non-voting member) answering does not make a majority of voters.
    assertFalse(leadership.confirmed("n1", THREE, Map.of("learner", 1L, "n3", 5_000L)));
    List<String> five = List.of("n1", "n2", "n3", "n4", "n5");
    assertFalse(leadership.confirmed("n1", five, Map.of("n2", 1L)));
    assertTrue(leadership.confirmed("n1", five, Map.of("n2", 1L, "n4", 2L)));
  }

  @Test
  void afterAPauseOnlyAnswersReceivedLongAfterItCount() {
    tickFor(100);
    advanceMs(4_000); // SIGSTOP: the watch does not run
    // Before the watch runs again, the gap itself says the process was paused.
    assertFalse(leadership.confirmed("n1", THREE, Map.of("n2", 1L, "n3", 1L)));
    leadership.tick();
    // Replies buffered during the pause arrive at once: they may predate another leader.
    advanceMs(10);
    assertFalse(leadership.confirmed("n1", THREE, Map.of("n2", 5L, "n3", 5L)));
    tickFor(300);
    assertFalse(
        leadership.confirmed("n1", THREE, Map.of("n2", 305L, "n3", 305L)),
        "received right after the pause");
    tickFor(200);
    assertTrue(
        leadership.confirmed("n1", THREE, Map.of("n2", 100L, "n3", 5_000L)),
        "received 400 ms after the pause: an answer to a request sent after it");
  }

  @Test
  void aLeaderHandingOverCountsOnlyLaterAnswers() {
    tickFor(100);
    assertTrue(leadership.confirmed("n1", THREE, Map.of("n2", 10L)));
    leadership.distrust(); // a follower may vote for the new leader right after answering
    tickFor(100);
    assertFalse(leadership.confirmed("n1", THREE, Map.of("n2", 10L)));
    tickFor(300);
    assertTrue(leadership.confirmed("n1", THREE, Map.of("n2", 10L)), "the transfer failed");
  }

  @Test
  void slowTicksAreNotPauses() {
    for (int i = 0; i < 20; i++) {
      advanceMs(120); // a tick late by 100 ms: a busy machine, not a pause
      leadership.tick();
    }
    assertTrue(leadership.confirmed("n1", THREE, Map.of("n2", 10L)));
  }

  private void tickFor(long ms) {
    for (long t = 0; t < ms; t += 20) {
      advanceMs(20);
      leadership.tick();
    }
  }

  private void advanceMs(long ms) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }
}
