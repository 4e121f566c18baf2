package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.error.ErrorCode;
import io.scribeledger.error.LedgerException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code ?minIndex=} waits: released in order, forgotten when cancelled, never more than the cap.
 */
class AppliedIndexWatchTest {

  @Test
  void cancelledWaitsLeaveNothingBehind() {
    AppliedIndexWatch watch = new AppliedIndexWatch(1000);
    for (int i = 0; i < 100_000; i++) {
      AppliedIndexWatch.Wait wait = watch.await(1_000_000_000L + i);
      watch.cancel(wait); // what a read's timeout does
    }
    assertEquals(0, watch.held(), "100,000 timed-out reads hold nothing");
  }

  @Test
  void waitsBeyondTheCapAreRefusedUntilSomeComplete() {
    AppliedIndexWatch watch = new AppliedIndexWatch(3);
    List<AppliedIndexWatch.Wait> waits = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      waits.add(watch.await(10L * i));
    }
    LedgerException refused = assertThrows(LedgerException.class, () -> watch.await(40));
    assertEquals(ErrorCode.UNAVAILABLE, refused.error().code());
    watch.advance(20);
    assertTrue(waits.get(0).ready().isDone() && waits.get(1).ready().isDone());
    assertFalse(waits.get(2).ready().isDone());
    assertEquals(1, watch.held());
    AppliedIndexWatch.Wait fourth = watch.await(40);
    watch.advance(40);
    assertTrue(waits.get(2).ready().isDone() && fourth.ready().isDone());
    assertEquals(0, watch.held());
  }

  @Test
  void anIndexAlreadyAppliedCompletesAtOnceAndHoldsNothing() {
    AppliedIndexWatch watch = new AppliedIndexWatch(1);
    watch.advance(5);
    assertTrue(watch.await(5).ready().isDone());
    assertTrue(watch.await(3).ready().isDone());
    assertEquals(0, watch.held());
  }

  @Test
  void aWaitRacingTheApplyThreadIsNeverLost() throws InterruptedException {
    AppliedIndexWatch watch = new AppliedIndexWatch(1_000_000);
    Thread applier =
        new Thread(
            () -> {
              for (long i = 1; i <= 200_000; i++) {
                watch.advance(i);
              }
            });
    applier.start();
    List<AppliedIndexWatch.Wait> waits = new ArrayList<>();
    for (long i = 1; i <= 200_000; i += 7) {
      waits.add(watch.await(i));
    }
    applier.join();
    for (AppliedIndexWatch.Wait w : waits) {
      assertTrue(w.ready().isDone(), "wait for " + w.index() + " released");
    }
    assertEquals(0, watch.held());
  }
}
