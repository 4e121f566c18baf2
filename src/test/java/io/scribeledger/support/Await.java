package io.scribeledger.support;

import java.util.function.BooleanSupplier;

/** Waits for a condition read from outside (over HTTP, from files) until a deadline. */
public final class Await {

  private Await() {}

  /** Polls {@code done} every 50 ms; AssertionError naming {@code what} after {@code timeoutMs}. */
  public static void until(String what, long timeoutMs, BooleanSupplier done) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!done.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(50); // a deadline poll: the node offers no event to wait on from outside
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
