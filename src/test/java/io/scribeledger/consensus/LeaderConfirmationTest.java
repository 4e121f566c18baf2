package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * When a leader may serve a linearizable read from its own state: the rule, on a clock the test
 * moves and a Raft state the test sets (a real pause is what {@code PausedLeaderReadIT} and {@code
 * ClusterProcessIT} do with SIGSTOP).
 */
class LeaderConfirmationTest {

  private static final List<String> THREE = List.of("n1", "n2", "n3");

  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  /** What the watch sees on each tick: a leader of three whose followers answer at once. */
  private final AtomicReference<LeaderConfirmation.View> seen =
      new AtomicReference<>(view(Map.of("n2", 10L, "n3", 10L), 100, 100));

  private final AtomicInteger proofsProposed = new AtomicInteger();

  // Lease 270 ms, a pause is a gap over 150 ms (plus a tick), answers count 300 ms after one.
  private final LeaderConfirmation leadership =
      new LeaderConfirmation(
          "n1", 270, 150, 300, now::get, seen::get, proofsProposed::incrementAndGet, null);

  @Test
  void aMajorityThatAnsweredWithinTheLeaseConfirms() {
    tickFor(100);
    assertTrue(leadership.confirmed(view(Map.of("n2", 40L, "n3", 5_000L), 100, 100)));
    assertTrue(
        leadership.confirmed(
            new LeaderConfirmation.View(true, List.of(List.of("n1")), Map.of(), 5, 5)),
        "a group of one");
    assertEquals(0, proofsProposed.get());
  }

  @Test
  void aLeaderCutOffFromItsFollowersIsNotConfirmed() {
    tickFor(100);
    assertFalse(leadership.confirmed(view(Map.of("n2", 300L, "n3", 5_000L), 100, 100)));
    assertFalse(leadership.confirmed(view(Map.of(), 100, 100)), "never answered");
  }

  @Test
  void onlyVotersCount() {
    tickFor(100);
    List<List<String>> five = List.of(List.of("n1", "n2", "n3", "n4", "n5"));
    assertTrue(
        leadership.confirmed(
            new LeaderConfirmation.View(true, five, Map.of("n2", 1L, "n4", 2L), 9, 9)));
    assertFalse(
        leadership.confirmed(new LeaderConfirmation.View(true, five, Map.of("n2", 1L), 9, 9)));
    // A listener (non-voting member) answering does not make a majority of voters.
    assertFalse(leadership.confirmed(view(Map.of("learner", 1L, "n3", 5_000L), 100, 100)));
  }

  /**
   * The heal of a partition: the follower's reply that deposes the leader refreshes its answer time
   * before Ratis steps the leader down, so answers alone would confirm it in that moment.
   */
  @Test
  void afterALapseAnswersConfirmOnlyWithAnEntryCommittedSince() {
    tickFor(100);
    seen.set(view(Map.of("n2", 400L, "n3", 400L), 120, 100)); // cut off, writes pile up
    tickFor(40);
    seen.set(view(Map.of("n2", 600L, "n3", 600L), 130, 100));
    tickFor(40); // the watch sees the lapse: no read needed for that
    assertEquals(0, proofsProposed.get(), "nothing to propose while no majority answers");

    LeaderConfirmation.View healed = view(Map.of("n2", 1L, "n3", 700L), 130, 100);
    assertFalse(leadership.confirmed(healed), "a fresh answer, but nothing committed since");
    assertEquals(1, proofsProposed.get(), "a read that waits has the proof entry proposed");
    assertFalse(leadership.confirmed(healed));
    assertEquals(1, proofsProposed.get(), "once per lapse");
    assertFalse(
        leadership.confirmed(view(Map.of("n2", 1L), 131, 120)),
        "entries appended before the lapse began do not prove it");
    assertTrue(
        leadership.confirmed(view(Map.of("n2", 1L), 131, 121)),
        "an entry appended after the lapse began is committed: a majority took an entry of this"
            + " term after it may have been deposed");
    assertTrue(leadership.confirmed(view(Map.of("n2", 1L), 131, 121)), "and stays confirmed");
  }

  @Test
  void aProofThatCouldNotBeProposedIsProposedAgainAfterAnElectionTimeout() {
    seen.set(view(Map.of(), 50, 50));
    tickFor(40);
    LeaderConfirmation.View answered = view(Map.of("n3", 2L), 50, 50);
    assertFalse(leadership.confirmed(answered));
    tickFor(200);
    assertFalse(leadership.confirmed(answered));
    assertEquals(1, proofsProposed.get());
    tickFor(120);
    assertFalse(leadership.confirmed(answered));
    assertEquals(2, proofsProposed.get(), "the first proposal appended nothing");
  }

  @Test
  void aNewTermNeedsNoProofOfTheOldOne() {
    seen.set(view(Map.of(), 50, 50));
    tickFor(40);
    seen.set(LeaderConfirmation.View.NOT_LEADING); // stepped down, later elected again
    tickFor(40);
    assertTrue(leadership.confirmed(view(Map.of("n2", 1L), 60, 55)));
  }

  @Test
  void afterAPauseOnlyAnswersReceivedLongAfterItCount() {
    tickFor(100);
    advanceMs(4_000); // SIGSTOP: the watch does not run
    // Before the watch runs again, the gap itself says the process was paused.
    assertFalse(leadership.confirmed(view(Map.of("n2", 1L, "n3", 1L), 100, 100)));
    // The followers' last answers are as old as the pause: the lapse is the pause's own.
    seen.set(view(Map.of("n2", 4_000L, "n3", 4_000L), 100, 100));
    leadership.tick();
    assertEquals(1, proofsProposed.get(), "the proof entry is proposed as the pause is noticed");
    seen.set(view(Map.of("n2", 4_000L, "n3", 4_000L), 101, 100)); // appended: index 101
    tickFor(40); // still no answer since the pause: a lapse, but the pause's own
    // Replies buffered during the pause arrive at once: they may predate another leader.
    assertFalse(leadership.confirmed(view(Map.of("n2", 5L, "n3", 5L), 101, 101)));
    seen.set(view(Map.of("n2", 5L, "n3", 5L), 101, 101));
    tickFor(260);
    assertFalse(
        leadership.confirmed(view(Map.of("n2", 250L, "n3", 250L), 101, 101)),
        "received within an election timeout of the pause");
    seen.set(view(Map.of("n2", 100L, "n3", 100L), 101, 101));
    tickFor(200);
    assertFalse(
        leadership.confirmed(view(Map.of("n2", 100L, "n3", 5_000L), 100, 100)),
        "an answer to a request sent after the pause, but no entry committed since");
    assertTrue(
        leadership.confirmed(view(Map.of("n2", 100L, "n3", 5_000L), 101, 101)),
        "received 400 ms after the pause, and the entry proposed after it committed (the lapse"
            + " the watch saw during the pause's own drain asked for no later one)");
  }

  @Test
  void aLeaderHandingOverCountsOnlyLaterAnswersAndAnEntryCommittedSince() {
    tickFor(100);
    assertTrue(leadership.confirmed(view(Map.of("n2", 10L), 100, 100)));
    // A follower may vote for the new leader right after answering; this transfer fails at once.
    assertTrue(leadership.handOver(view(Map.of("n2", 10L), 100, 100), 0));
    tickFor(100);
    assertFalse(leadership.confirmed(view(Map.of("n2", 10L), 100, 100)));
    tickFor(520); // an election timeout for the request on its way, one for the answers
    assertFalse(
        leadership.confirmed(view(Map.of("n2", 10L), 100, 100)),
        "answers count again, but nothing committed since");
    assertTrue(leadership.confirmed(view(Map.of("n2", 10L), 101, 101)), "the transfer failed");
  }

  @Test
  void slowTicksAreNotPauses() {
    for (int i = 0; i < 20; i++) {
      advanceMs(120); // a tick late by 100 ms: a busy machine, not a pause
      leadership.tick();
    }
    assertTrue(leadership.confirmed(view(Map.of("n2", 10L), 100, 100)));
  }

  @Test
  void aWatchThatCannotReadTheRaftStateRefusesUntilItCanAndThenTreatsTheGapAsAPause() {
    java.util.concurrent.atomic.AtomicBoolean failing =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    LeaderConfirmation watch =
        new LeaderConfirmation(
            "n1",
            270,
            150,
            300,
            now::get,
            () -> {
              if (failing.get()) {
                throw new IllegalStateException("closed");
              }
              return seen.get();
            },
            proofsProposed::incrementAndGet,
            null);
    for (int i = 0; i < 20; i++) {
      advanceMs(20);
      watch.tick();
    }
    assertFalse(watch.confirmed(view(Map.of("n2", 10L), 100, 100)), "refused, never let through");
    failing.set(false);
    advanceMs(20);
    watch.tick();
    assertEquals(1, proofsProposed.get(), "handled as a pause: a proof entry is proposed");
    assertFalse(watch.confirmed(view(Map.of("n2", 10L), 100, 100)));
  }

  @Test
  void aLapseBetweenTwoLooksIsSeenAtTheSecond() {
    tickFor(100);
    seen.set(view(Map.of("n2", 0L, "n3", 0L), 100, 100)); // both answer at T
    tickFor(20);
    seen.set(view(Map.of("n2", 140L, "n3", 140L), 100, 100));
    advanceMs(140);
    leadership.tick(); // T + 140: the lease holds until T + 270
    // A starved watch looks again only at T + 300 (160 ms later: slow, not a pause). The
    // followers answered again at T + 290, so no majority had answered within the lease from
    // T + 270 to T + 290: a lapse neither look saw as such.
    seen.set(view(Map.of("n2", 10L, "n3", 10L), 100, 100));
    advanceMs(160);
    leadership.tick();
    assertFalse(
        leadership.confirmed(view(Map.of("n2", 10L, "n3", 10L), 100, 100)),
        "fresh answers now, but the lease lapsed in between: an entry committed since is needed");
    assertEquals(1, proofsProposed.get());
    assertTrue(leadership.confirmed(view(Map.of("n2", 10L, "n3", 10L), 101, 101)));
  }

  @Test
  void duringAConfigurationChangeAMajorityOfEachVoterSetIsNeeded() {
    tickFor(100);
    List<List<String>> joint = List.of(List.of("n1", "n4", "n5", "n2", "n3"), THREE);
    // n4 and n5 (new) answer: a majority of the new set, not of the old one.
    assertFalse(
        leadership.confirmed(
            new LeaderConfirmation.View(true, joint, Map.of("n4", 1L, "n5", 1L), 9, 9)));
    assertTrue(
        leadership.confirmed(
            new LeaderConfirmation.View(true, joint, Map.of("n4", 1L, "n5", 1L, "n2", 1L), 9, 10)),
        "with n2 a majority of both, and an entry committed since the lapse");
  }

  @Test
  void aLeaderCutOffWhileHandingOverNeedsAProofToo() {
    tickFor(100);
    assertTrue(leadership.handOver(seen.get(), 0)); // the transfer fails
    seen.set(view(Map.of("n2", 400L, "n3", 400L), 100, 100)); // and it is cut off
    tickFor(100);
    seen.set(view(Map.of("n2", 5L, "n3", 5L), 100, 100)); // the heal, after the handover's wait
    tickFor(600);
    assertFalse(
        leadership.confirmed(view(Map.of("n2", 5L, "n3", 5L), 100, 100)),
        "the lapse during the handover's wait asks for an entry committed since");
    assertTrue(leadership.confirmed(view(Map.of("n2", 5L, "n3", 5L), 101, 101)));
  }

  /**
   * Told that another member is moving its leadership (a transfer of up to 1 s here): no answer
   * counts until the transfer could have ended and two election timeouts more, then it also needs
   * an entry appended after the notice, committed; a repeated notice whose transfer would end
   * sooner does not shorten the wait.
   */
  @Test
  void aHandoverNoticeHoldsReadsUntilTheTransferCouldHaveEndedAndAnEntryCommittedSince() {
    tickFor(100);
    LeaderConfirmation.View fresh = view(Map.of("n2", 10L, "n3", 10L), 100, 100);
    assertTrue(leadership.confirmed(fresh));
    assertFalse(
        leadership.handOver(
            new LeaderConfirmation.View(false, List.of(THREE), Map.of(), 1, 1), 1000),
        "a member that does not lead takes no notice");
    assertTrue(leadership.handOver(fresh, 1000));
    tickFor(900);
    assertFalse(leadership.handOver(fresh, 100), "already in effect: not begun again");
    // The transfer may start the target's election until 1,000 ms plus an election timeout (the
    // request on its way) after the notice; answers count from an election timeout after that.
    tickFor(600); // 1,500 ms after the notice
    assertFalse(leadership.confirmed(fresh), "answers still look fresh, yet do not count");
    tickFor(120);
    assertFalse(leadership.confirmed(fresh), "answers count again, but nothing committed since");
    assertTrue(proofsProposed.get() >= 1, "so it asks for an entry");
    assertTrue(leadership.confirmed(view(Map.of("n2", 10L, "n3", 10L), 101, 101)));
  }

  private static LeaderConfirmation.View view(
      Map<String, Long> ages, long lastLogIndex, long commitIndex) {
    return new LeaderConfirmation.View(true, List.of(THREE), ages, lastLogIndex, commitIndex);
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
